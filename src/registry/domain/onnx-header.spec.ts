import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import onnxProto from 'onnx-proto';
import {
  MIN_LARGE_MODEL_BYTES,
  corruptModel,
  fastModel,
  largeOnnxModelChunks,
  slowModel,
  writeLargeOnnxModel,
} from '../../../test/support/onnx-models.js';
import {
  MAX_BUFFERED_FIELD_BYTES,
  NotOnnxError,
  OnnxHeaderParser,
  elemTypeName,
  parseOnnxFile,
  type OnnxHeader,
} from './onnx-header.js';

const { onnx } = onnxProto;
const MIB = 1024 * 1024;

// --- a few hand-made protobuf pieces, for what onnx-proto cannot write (packed dims, bad bytes) ----

function varint(value: number | bigint): Buffer {
  let rest = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Buffer.from(bytes);
}
const key = (field: number, wire: number) => varint(field * 8 + wire);
const int = (field: number, value: number | bigint) =>
  Buffer.concat([key(field, 0), varint(value)]);
const bytesField = (field: number, body: Uint8Array | string) => {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([key(field, 2), varint(data.length), data]);
};
const msg = (...parts: Uint8Array[]) => Buffer.concat(parts);

/** The smallest thing the parser accepts: ir_version, an opset and an empty graph. */
const minimal = (...more: Uint8Array[]) =>
  msg(int(1, 8), bytesField(8, int(2, 13)), bytesField(7, Buffer.alloc(0)), ...more);

function parse(...chunks: Uint8Array[]): OnnxHeader {
  const parser = new OnnxHeaderParser();
  for (const chunk of chunks) parser.push(chunk);
  return parser.end();
}

/** Pushes `bytes` in chunks of the given sizes, through one scratch buffer that is overwritten after each push, as a stream's pooled buffers might be. */
function parseInChunks(bytes: Buffer, sizes: () => number): OnnxHeader {
  const parser = new OnnxHeaderParser();
  const scratch = Buffer.alloc(1 << 17);
  for (let i = 0; i < bytes.length;) {
    const size = Math.min(sizes(), scratch.length);
    const length = bytes.copy(scratch, 0, i, i + size);
    parser.push(scratch.subarray(0, length));
    scratch.fill(0xee, 0, length);
    i += size;
  }
  return parser.end();
}

function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648;
  };
}

function rejects(bytes: Uint8Array, message: RegExp): void {
  assert.throws(
    () => parse(bytes),
    (error: unknown) => {
      assert.ok(error instanceof NotOnnxError, `expected NotOnnxError, got ${String(error)}`);
      assert.match(error.message, /^not an ONNX model: /);
      assert.match(error.message, message);
      return true;
    },
  );
}

function encodeModel(model: onnxProto.onnx.IModelProto): Buffer {
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

const FLOAT = 1;
const INT64 = 7;

/**
 * A model that exercises every part of the header: three opsets, metadata, symbolic, unknown, int64
 * and negative dims, an old-style input that is also an initializer, a sequence input, external and
 * sparse initializers, a subgraph whose own inputs and nodes must not count, and a TensorProto with
 * packed dims appended by hand.
 */
function richModel(): Buffer {
  const packedDims = msg(
    bytesField(1, msg(varint(2), varint(3), varint(2 ** 33))),
    int(2, FLOAT),
    bytesField(8, 'packed'),
  );
  const subgraph: onnxProto.onnx.IGraphProto = {
    name: 'then',
    node: [{ opType: 'Identity', input: ['x'], output: ['y'] }],
    initializer: [{ name: 'sub_w', dims: [1000], dataType: FLOAT, rawData: Buffer.alloc(4000) }],
    input: [{ name: 'sub_in', type: { tensorType: { elemType: FLOAT } } }],
    output: [{ name: 'y', type: { tensorType: { elemType: FLOAT } } }],
  };
  const model = encodeModel({
    irVersion: 7,
    opsetImport: [
      { domain: '', version: 13 },
      { domain: 'com.microsoft', version: 1 },
      { domain: 'ai.onnx.ml', version: 3 },
    ],
    producerName: 'pytorch',
    producerVersion: '2.3.0',
    domain: 'org.sentinel',
    modelVersion: 7,
    docString: 'd'.repeat(5000),
    metadataProps: [
      { key: 'author', value: 'me' },
      { key: 'labels', value: 'ünï,cödé' },
      { key: 'empty', value: '' },
    ],
    graph: {
      name: 'main',
      docString: 'graph docs',
      node: [
        { opType: 'Conv', input: ['images', 'W'], output: ['c'] },
        {
          opType: 'If',
          input: ['cond'],
          output: ['y'],
          attribute: [{ name: 'then_branch', type: 5, g: subgraph }],
        },
        { opType: 'Add', input: ['c', 'B'], output: ['scores'] },
      ],
      initializer: [
        { name: 'W', dims: [3, 4], dataType: FLOAT, rawData: Buffer.alloc(48) },
        { name: 'B', dims: [4], dataType: FLOAT, floatData: [1, 2, 3, 4] },
        {
          name: 'far',
          dims: [1000, 1000],
          dataType: FLOAT,
          dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
          externalData: [{ key: 'location', value: 'far.bin' }],
        },
      ],
      sparseInitializer: [
        {
          values: { name: 'S', dims: [5], dataType: FLOAT, floatData: [1, 2, 3, 4, 5] },
          indices: { name: 'S_idx', dims: [5], dataType: INT64, int64Data: [0, 7, 19, 42, 99] },
          dims: [10, 10],
        },
      ],
      input: [
        {
          name: 'images',
          type: {
            tensorType: {
              elemType: FLOAT,
              shape: {
                dim: [{ dimParam: 'batch' }, { dimValue: 3 }, { dimValue: 5_000_000_000 }, {}],
              },
            },
          },
        },
        {
          name: 'W',
          type: {
            tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: 3 }, { dimValue: 4 }] } },
          },
        },
        {
          name: 'history',
          type: { sequenceType: { elemType: { tensorType: { elemType: FLOAT } } } },
        },
        { name: 'cond', type: { tensorType: { elemType: 9, shape: { dim: [] } } } },
      ],
      output: [
        {
          name: 'scores',
          type: {
            tensorType: {
              elemType: INT64,
              shape: { dim: [{ dimParam: 'batch' }, { dimValue: -1 }] },
            },
          },
        },
        { name: 'y', type: { tensorType: { elemType: 16 } } },
      ],
      valueInfo: [{ name: 'c', type: { tensorType: { elemType: FLOAT } } }],
    },
  });
  // protobuf merges a repeated field that appears again later: one more graph field adds an initializer
  return msg(model, bytesField(7, bytesField(5, packedDims)));
}

const RICH: OnnxHeader = {
  ir_version: 7,
  producer_name: 'pytorch',
  producer_version: '2.3.0',
  domain: 'org.sentinel',
  model_version: 7,
  opsets: [
    { domain: '', version: 13 },
    { domain: 'com.microsoft', version: 1 },
    { domain: 'ai.onnx.ml', version: 3 },
  ],
  opset: 13,
  graph_name: 'main',
  inputs: [
    { name: 'images', elem_type: 'FLOAT', shape: ['batch', 3, 5_000_000_000, null] },
    { name: 'history', elem_type: 'SEQUENCE', shape: [] },
    { name: 'cond', elem_type: 'BOOL', shape: [] },
  ],
  outputs: [
    { name: 'scores', elem_type: 'INT64', shape: ['batch', -1] },
    { name: 'y', elem_type: 'BFLOAT16', shape: [] },
  ],
  // W 12 + B 4 + far 1e6 + sparse S 5 non-zeros + packed 2*3*2^33
  parameter_count: 12 + 4 + 1_000_000 + 5 + 6 * 2 ** 33,
  initializer_count: 5,
  node_count: 3,
  metadata_props: { author: 'me', labels: 'ünï,cödé', empty: '' },
};

describe('OnnxHeaderParser on real models', () => {
  it('reads the fast test model', () => {
    assert.deepEqual(parse(fastModel()), {
      ir_version: 8,
      producer_name: 'sentinel-test-models',
      producer_version: '1.0.0',
      domain: '',
      model_version: 0,
      opsets: [{ domain: '', version: 13 }],
      opset: 13,
      graph_name: 'fast',
      inputs: [{ name: 'input', elem_type: 'FLOAT', shape: [1, 64] }],
      outputs: [{ name: 'output', elem_type: 'FLOAT', shape: [1, 16] }],
      parameter_count: 64 * 16,
      initializer_count: 1,
      node_count: 2,
      metadata_props: {},
    });
  });

  it('counts the slow model parameters, initializers and nodes', () => {
    const header = parse(slowModel());
    assert.equal(header.parameter_count, 64 * 16 * 256 + 2 + 8 * 256 * 256 + 256 * 16);
    assert.equal(header.initializer_count, 11);
    assert.equal(header.node_count, 3 + 8 * 2 + 3);
  });

  it('reads opsets, metadata, int64, negative, symbolic and unknown dims; drops initializer inputs', () => {
    const bytes = richModel();
    // the hand-appended part is valid protobuf: onnx-proto merges it into the graph
    const graph = onnx.ModelProto.decode(bytes).graph as onnxProto.onnx.GraphProto;
    assert.deepEqual(graph.initializer.at(-1)!.dims?.map(Number), [2, 3, 2 ** 33]);
    assert.deepEqual(parse(bytes), RICH);
  });

  it('gives the same answer whatever the chunk boundaries', () => {
    for (const bytes of [fastModel(), richModel()]) {
      const whole = parse(bytes);
      assert.deepEqual(
        parseInChunks(bytes, () => 1),
        whole,
        'byte by byte',
      );
      for (let seed = 1; seed <= 20; seed++) {
        const random = seeded(seed);
        assert.deepEqual(
          parseInChunks(bytes, () => 1 + Math.floor(random() * 97)),
          whole,
          `seed ${seed}`,
        );
      }
    }
    const slow = slowModel();
    const random = seeded(99);
    assert.deepEqual(
      parseInChunks(slow, () => 1 + Math.floor(random() * 70_000)),
      parse(slow),
    );
  });

  it('reads a large model written by streaming, and onnx-proto agrees with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-header-'));
    try {
      const path = join(dir, 'large.onnx');
      await writeLargeOnnxModel(path, 2_000_000);
      const header = await parseOnnxFile(path);
      const graph = onnx.ModelProto.decode(readFileSync(path)).graph as onnxProto.onnx.GraphProto;
      const elements = graph.initializer.reduce(
        (sum, t) => sum + (t.dims ?? []).reduce((p: number, d) => p * Number(d), 1),
        0,
      );
      assert.equal(header.parameter_count, elements);
      assert.equal(header.initializer_count, graph.initializer.length);
      assert.deepEqual(header.inputs, parse(fastModel()).inputs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('skips a 50 MiB raw_data without buffering it', () => {
    const parser = new OnnxHeaderParser();
    const before = process.memoryUsage().arrayBuffers;
    // the padding chunks all share one Buffer, so any copy the parser kept would show up here
    for (const chunk of largeOnnxModelChunks(50 * MIB)) parser.push(chunk);
    const growth = process.memoryUsage().arrayBuffers - before;
    const header = parser.end();
    assert.equal(parser.bytesRead, 50 * MIB);
    assert.ok(header.parameter_count > 50 * MIB - 10_000);
    assert.ok(growth < 4 * MIB, `array buffers grew by ${growth} bytes`);
  });

  it('writes large models of exactly the size asked for, each one valid', () => {
    const sizes = [];
    for (let size = MIN_LARGE_MODEL_BYTES; size < MIN_LARGE_MODEL_BYTES + 300; size++)
      sizes.push(size);
    for (const edge of [2 ** 14, 2 ** 21, 2 ** 28])
      for (let d = -8; d <= 8; d++) sizes.push(edge + d);
    for (const size of sizes) {
      const parser = new OnnxHeaderParser();
      let total = 0;
      for (const chunk of largeOnnxModelChunks(size)) {
        total += chunk.length;
        parser.push(chunk);
      }
      assert.equal(total, size);
      assert.equal(parser.end().opset, 13, `size ${size}`);
    }
    assert.throws(() => [...largeOnnxModelChunks(MIN_LARGE_MODEL_BYTES - 1)], RangeError);
  });
});

describe('OnnxHeaderParser keeps memory bounded', () => {
  it(`skips string fields over ${MAX_BUFFERED_FIELD_BYTES} bytes: the metadata entry is dropped`, () => {
    const huge = 'x'.repeat(MAX_BUFFERED_FIELD_BYTES + 1);
    const header = parse(
      minimal(
        bytesField(2, huge),
        bytesField(6, 'y'.repeat(5 * MIB)),
        bytesField(14, msg(bytesField(1, 'big'), bytesField(2, huge))),
        bytesField(14, msg(bytesField(1, 'small'), bytesField(2, 'kept'))),
      ),
    );
    assert.equal(header.producer_name, '');
    assert.deepEqual(header.metadata_props, { small: 'kept' });
  });

  it('keeps 20,000 initializers listed as inputs (old style) well within the budget', () => {
    const names = Array.from({ length: 20_000 }, (_, i) => `layer${i}.weight`);
    const tensor = { elemType: FLOAT, shape: { dim: [{ dimValue: 4 }] } };
    const header = parse(
      encodeModel({
        irVersion: 3,
        opsetImport: [{ domain: '', version: 9 }],
        graph: {
          initializer: names.map((name) => ({
            name,
            dims: [4],
            dataType: FLOAT,
            rawData: Buffer.alloc(16),
          })),
          input: ['x', ...names].map((name) => ({ name, type: { tensorType: tensor } })),
        },
      }),
    );
    assert.deepEqual(header.inputs, [{ name: 'x', elem_type: 'FLOAT', shape: [4] }]);
    assert.equal(header.parameter_count, 80_000);
  });

  it('refuses a header whose names and metadata exceed the budget', () => {
    const parser = new OnnxHeaderParser();
    parser.push(minimal());
    const entry = bytesField(14, msg(bytesField(1, 'k'), bytesField(2, 'v'.repeat(MIB - 100))));
    for (let i = 0; i < 64 && !parser.error; i++) parser.push(entry);
    assert.throws(() => parser.end(), /names and metadata take more than 32 MiB/);
  });
});

describe('OnnxHeaderParser tells what is not ONNX', () => {
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    Buffer.from('0000000d49484452000000100000001008060000001ff3ff61', 'hex'),
    Buffer.alloc(200, 0x42),
  ]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['an empty buffer', Buffer.alloc(0), /the file is empty/],
    ['a Python file', Buffer.from('def not_a_model():\n  pass\n'), /invalid wire type 4 at byte 0/],
    ['a JSON file', Buffer.from('{"model": "resnet"}'), /invalid wire type/],
    ['a PNG', png, /field number 0 at byte 10/],
    ['the corrupt test model', corruptModel(), /truncated at byte \d+/],
    ['wire type 3 (group start)', msg(int(1, 8), key(2, 3)), /invalid wire type 3 at byte 2/],
    ['wire type 4 (group end)', msg(key(2, 4)), /invalid wire type 4/],
    ['wire type 6', msg(key(2, 6)), /invalid wire type 6/],
    ['wire type 7', msg(key(2, 7)), /invalid wire type 7/],
    ['field number 0', Buffer.from([0x02, 0x00]), /field number 0/],
    [
      'a varint longer than 10 bytes',
      Buffer.from([0x08, ...Array(10).fill(0xff), 0x01]),
      /longer than 10 bytes/,
    ],
    ['a truncated varint', Buffer.from([0x08, 0x80]), /truncated at byte 2/],
    ['a truncated length', minimal(bytesField(2, 'abc')).subarray(0, -2), /truncated/],
    ['a truncated fixed64', msg(minimal(), key(99, 1), Buffer.alloc(7)), /truncated/],
    [
      'a nested length beyond its parent',
      msg(int(1, 8), key(7, 2), varint(3), bytesField(2, 'graph')),
      /a length of 5 runs past the end of its message/,
    ],
    [
      'a nested varint beyond its parent',
      msg(int(1, 8), key(7, 2), varint(2), key(99, 0), Buffer.from([0x80, 0x01])),
      /varint runs past the end/,
    ],
    [
      'a fixed64 beyond its parent',
      msg(int(1, 8), key(7, 2), varint(5), key(99, 1), Buffer.alloc(8)),
      /8 bytes run past the end/,
    ],
    [
      'ir_version as a string',
      msg(bytesField(1, 'eight'), bytesField(7, Buffer.alloc(0))),
      /unexpected wire type 2 \(field 1 of ModelProto at byte 0\)/,
    ],
    ['no graph', msg(int(1, 8), bytesField(8, int(2, 13))), /no graph/],
    ['no opset_import', msg(int(1, 8), bytesField(7, Buffer.alloc(0))), /no opset_import/],
    ['no ir_version', bytesField(7, Buffer.alloc(0)), /no ir_version/],
    ['ir_version 0', msg(int(1, 0), bytesField(7, Buffer.alloc(0))), /no ir_version/],
    [
      'ir_version 101',
      msg(int(1, 101), bytesField(7, Buffer.alloc(0))),
      /ir_version 101 is out of range/,
    ],
    [
      'a negative ir_version',
      msg(int(1, -1), bytesField(7, Buffer.alloc(0))),
      /ir_version -1 is out of range/,
    ],
    [
      'a negative tensor dim',
      minimal(bytesField(7, bytesField(5, int(1, -4)))),
      /a negative tensor dim -4/,
    ],
    [
      'packed dims ending inside a varint',
      minimal(bytesField(7, bytesField(5, bytesField(1, Buffer.from([0x80]))))),
      /packed dims end inside a varint/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    it(`refuses ${what}`, () => rejects(bytes, message));
  }

  it('refuses every truncation of a real model', () => {
    const bytes = fastModel();
    for (let length = 0; length < bytes.length; length++) {
      assert.throws(
        () => parse(bytes.subarray(0, length)),
        NotOnnxError,
        `prefix of ${length} bytes`,
      );
    }
  });

  it('refuses seeded random bytes', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const random = seeded(seed);
      const bytes = Buffer.alloc(4096);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      assert.throws(() => parse(bytes), NotOnnxError, `seed ${seed}`);
    }
  });

  it('reports the first failure once and ignores what follows', () => {
    const parser = new OnnxHeaderParser();
    parser.push(Buffer.from('not a model'));
    const first = parser.error;
    assert.ok(first instanceof NotOnnxError);
    parser.push(fastModel());
    assert.equal(parser.error, first);
    assert.throws(
      () => parser.end(),
      (error) => error === first,
    );
    assert.throws(
      () => parser.end(),
      (error) => error === first,
    );
  });

  it('names element types, known and unknown', () => {
    assert.equal(elemTypeName(1), 'FLOAT');
    assert.equal(elemTypeName(16), 'BFLOAT16');
    assert.equal(elemTypeName(26), 'INT2');
    assert.equal(elemTypeName(99), 'DATA_TYPE_99');
  });
});

describe('parseOnnxFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'onnx-file-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('parses a file and refuses one that is not ONNX', async () => {
    writeFileSync(join(dir, 'fast.onnx'), fastModel());
    writeFileSync(join(dir, 'text.onnx'), 'hello\n');
    assert.deepEqual(await parseOnnxFile(join(dir, 'fast.onnx')), parse(fastModel()));
    await assert.rejects(parseOnnxFile(join(dir, 'text.onnx')), NotOnnxError);
  });

  it('passes on a missing file as the file-system error', async () => {
    await assert.rejects(parseOnnxFile(join(dir, 'missing.onnx')), { code: 'ENOENT' });
  });
});
