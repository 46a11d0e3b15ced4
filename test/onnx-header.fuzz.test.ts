import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NotOnnxError, OnnxHeaderParser } from '../src/registry/domain/onnx-header.js';
import { fuzzRuns, fuzzSeed } from './support/fuzz.js';
import { fastModel, slowModel } from './support/onnx-models.js';

// The ONNX header parser reads whatever a client pushes. Fed random bytes, mutated real models or
// generated protobuf messages, in chunks cut anywhere, it must return a header or throw its own
// NotOnnxError (never anything else), and give the same answer however the bytes are chunked. Each
// property runs under a timeout, so a parser that loops forever fails instead of hanging CI.

type Outcome = { header: unknown } | { error: string };

function parse(bytes: Uint8Array, cuts: number[]): Outcome {
  const parser = new OnnxHeaderParser();
  let start = 0;
  for (const cut of [
    ...cuts.map((c) => Math.floor(c * bytes.length)).sort((a, b) => a - b),
    bytes.length,
  ]) {
    if (cut > start) parser.push(bytes.subarray(start, cut));
    start = Math.max(start, cut);
  }
  try {
    return { header: parser.end() };
  } catch (error) {
    assert.ok(error instanceof NotOnnxError, `threw ${String(error)}`);
    return { error: error.message };
  }
}

/** Parses in one chunk and in generated chunks: same outcome, and only NotOnnxError thrown. */
function check(bytes: Uint8Array, cuts: number[]): void {
  assert.deepEqual(parse(bytes, cuts), parse(bytes, []));
}

const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

// --- protobuf wire format, to reach deep into the parser rather than fail at the first byte
function varint(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, value);
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? byte | 0x80 : byte);
  } while (v);
  return out;
}

const fieldNumber = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 25 }), weight: 8 },
  { arbitrary: fc.integer({ min: 0, max: 2 ** 29 - 1 }), weight: 1 },
);
const varintValue = fc.oneof(
  fc.bigInt({ min: 0n, max: 300n }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
);

const message: fc.Memo<number[]> = fc.memo((depth) => {
  const field = fc.oneof(
    {
      arbitrary: fc
        .tuple(fieldNumber, varintValue)
        .map(([n, v]) => [...varint(BigInt(n) << 3n), ...varint(v)]),
      weight: 3,
    },
    {
      arbitrary: fc
        .tuple(
          fieldNumber,
          depth > 1
            ? fc.oneof(
                message(depth - 1),
                fc.uint8Array({ maxLength: 24 }).map((a) => [...a]),
              )
            : fc.uint8Array({ maxLength: 24 }).map((a) => [...a]),
        )
        .map(([n, body]) => [
          ...varint((BigInt(n) << 3n) | 2n),
          ...varint(BigInt(body.length)),
          ...body,
        ]),
      weight: 4,
    },
    {
      arbitrary: fc
        .tuple(fieldNumber, fc.uint8Array({ minLength: 4, maxLength: 4 }))
        .map(([n, b]) => [...varint((BigInt(n) << 3n) | 5n), ...b]),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(fieldNumber, fc.uint8Array({ minLength: 8, maxLength: 8 }))
        .map(([n, b]) => [...varint((BigInt(n) << 3n) | 1n), ...b]),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(fieldNumber, fc.constantFrom(3n, 4n, 6n, 7n))
        .map(([n, w]) => varint((BigInt(n) << 3n) | w)),
      weight: 1,
    },
  );
  return fc.array(field, { maxLength: 6 }).map((fields) => fields.flat());
});

/** A model-like message: ir_version, an opset import and a graph of generated fields, in any order. */
const modelLike = fc
  .tuple(message(4), message(3), fc.integer({ min: 0, max: 12 }))
  .map(([graph, extra, ir]) => {
    const opset = [0x0a, 0x00, 0x10, 13];
    return Uint8Array.from([
      0x08,
      ir,
      0x42,
      ...varint(BigInt(opset.length)),
      ...opset,
      0x3a,
      ...varint(BigInt(graph.length)),
      ...graph,
      ...extra,
    ]);
  });

type Mutation = {
  kind: 'flip' | 'insert' | 'delete' | 'truncate' | 'duplicate';
  at: number;
  value: number;
  length: number;
};
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('flip', 'insert', 'delete', 'truncate', 'duplicate'),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  value: fc.integer({ min: 0, max: 255 }),
  length: fc.integer({ min: 1, max: 64 }),
});

function mutate(source: Buffer, mutations: Mutation[]): Buffer {
  let bytes = Buffer.from(source);
  for (const m of mutations) {
    const at = Math.min(bytes.length, Math.floor(m.at * bytes.length));
    const head = bytes.subarray(0, at);
    const tail = bytes.subarray(at);
    if (m.kind === 'flip' && at < bytes.length) bytes[at] = m.value;
    else if (m.kind === 'insert')
      bytes = Buffer.concat([head, Buffer.alloc(m.length, m.value), tail]);
    else if (m.kind === 'delete') bytes = Buffer.concat([head, tail.subarray(m.length)]);
    else if (m.kind === 'truncate') bytes = Buffer.from(head);
    else if (m.kind === 'duplicate')
      bytes = Buffer.concat([head, tail.subarray(0, m.length), tail]);
  }
  return bytes;
}

describe('ONNX header parser fuzz', { timeout: 120_000 }, () => {
  const seed = fuzzSeed('ONNX header parser fuzz');

  it('random bytes: a header or NotOnnxError, the same in any chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), cuts, (bytes, at) => check(bytes, at)),
      { seed, numRuns: fuzzRuns(3000) },
    );
  });

  it('mutated real models: a header or NotOnnxError, the same in any chunks', () => {
    const models = [fastModel(), slowModel({ rows: 2, hidden: 16, layers: 2 })];
    fc.assert(
      fc.property(
        fc.constantFrom(...models),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        cuts,
        (model, mutations, at) => check(mutate(model, mutations), at),
      ),
      { seed, numRuns: fuzzRuns(1500) },
    );
  });

  it('generated protobuf messages: a header or NotOnnxError, the same in any chunks', () => {
    let headers = 0;
    fc.assert(
      fc.property(modelLike, cuts, (bytes, at) => {
        check(bytes, at);
        if ('header' in parse(bytes, [])) headers++;
      }),
      { seed, numRuns: fuzzRuns(3000) },
    );
    // The generator must reach past the first bytes: some of its messages are headers.
    assert.ok(headers > 0, 'no generated message parsed as a header');
  });
});
