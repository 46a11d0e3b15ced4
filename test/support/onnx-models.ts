import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import onnxProto from 'onnx-proto';
import { seededRandom as prng } from '@sentinel/broker/testing';

// Real ONNX models for tests and benchmarks, written from JS (no Python, no network). Weights come
// from a seeded PRNG, so every call returns the same bytes.

const { onnx } = onnxProto;

export const PRODUCER_NAME = 'sentinel-test-models';
export const PRODUCER_VERSION = '1.0.0';
export const OPSET = 13;
export const IR_VERSION = 8;
export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'output';
export const INPUT_SHAPE = [1, 64] as const;
export const OUTPUT_SHAPE = [1, 16] as const;
/** Absolute tolerance for comparing an engine's float32 output with referenceOutput(). */
export const GOLDEN_ATOL = 1e-4;

const FAST_SEED = 0x5e471e1;
const MISMATCH_SEED = 0xbadf00d;
const SLOW_SEED = 0x51077;
const GOLDEN_INPUT_SEED = 0x60d;
const PADDING_SEED = 0xfade;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const UINT8 = onnx.TensorProto.DataType.UINT8;
const INT64 = onnx.TensorProto.DataType.INT64;

/** He-uniform weights of a [fanIn, fanOut] matrix, so activations keep their scale through ReLUs. */
function weights(seed: number, fanIn: number, fanOut: number): Float32Array {
  const next = prng(seed);
  const limit = Math.sqrt(6 / fanIn);
  const values = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < values.length; i++) values[i] = (next() * 2 - 1) * limit;
  return values;
}

function floatTensor(
  name: string,
  dims: number[],
  values: Float32Array,
): onnxProto.onnx.ITensorProto {
  const raw = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => raw.writeFloatLE(value, i * 4)); // raw_data is little-endian
  return { name, dims, dataType: FLOAT, rawData: raw };
}

function int64Tensor(name: string, values: number[]): onnxProto.onnx.ITensorProto {
  return { name, dims: [values.length], dataType: INT64, int64Data: values };
}

function tensorValue(name: string, dims: readonly number[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: { elemType: FLOAT, shape: { dim: dims.map((dimValue) => ({ dimValue })) } },
    },
  };
}

function node(
  opType: string,
  inputs: string[],
  output: string,
  attribute?: onnxProto.onnx.IAttributeProto[],
) {
  return { opType, input: inputs, output: [output], name: output, attribute };
}

function modelProto(
  graph: onnxProto.onnx.IGraphProto,
  docString: string,
  opset = OPSET,
): onnxProto.onnx.IModelProto {
  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: opset }],
    producerName: PRODUCER_NAME,
    producerVersion: PRODUCER_VERSION,
    docString,
    graph,
  };
}

function encode(model: onnxProto.onnx.IModelProto): Buffer {
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** input [1,64] -> MatMul W [64,16] -> Relu -> output [1,16]. */
function matMulReluGraph(seed: number, name: string): onnxProto.onnx.IGraphProto {
  return {
    name,
    node: [node('MatMul', [INPUT_NAME, 'W'], 'matmul'), node('Relu', ['matmul'], OUTPUT_NAME)],
    initializer: [
      floatTensor(
        'W',
        [INPUT_SHAPE[1], OUTPUT_SHAPE[1]],
        weights(seed, INPUT_SHAPE[1], OUTPUT_SHAPE[1]),
      ),
    ],
    input: [tensorValue(INPUT_NAME, INPUT_SHAPE)],
    output: [tensorValue(OUTPUT_NAME, OUTPUT_SHAPE)],
  };
}

/** A 1x64 MatMul + Relu (1,024 multiply-adds): the model that runs fast. */
export function fastModel(): Buffer {
  return encode(modelProto(matMulReluGraph(FAST_SEED, 'fast'), 'fast MatMul+Relu test model'));
}

/** The same graph and weights as fastModel(), other bytes (its doc string): it agrees fully. */
export function fastTwinModel(): Buffer {
  return encode(modelProto(matMulReluGraph(FAST_SEED, 'fast'), 'fast MatMul+Relu twin'));
}

/** fastModel() stamped with another ai.onnx opset (e.g. one newer than onnxruntime loads). */
export function fastModelAtOpset(opset: number): Buffer {
  return encode(
    modelProto(matMulReluGraph(FAST_SEED, 'fast'), 'fast MatMul+Relu test model', opset),
  );
}

/** Same inputs, outputs and operators as fastModel(), other weights: its outputs miss the golden ones. */
export function goldenMismatchModel(): Buffer {
  return encode(modelProto(matMulReluGraph(MISMATCH_SEED, 'fast'), 'fast MatMul+Relu test model'));
}

export interface SlowModelOptions {
  /** Rows the input is spread over: each hidden layer is a [rows, hidden] x [hidden, hidden] MatMul. */
  rows?: number;
  hidden?: number;
  layers?: number;
}

/**
 * Same IO as fastModel() but ~8.7 M multiply-adds per inference with the defaults (fast: 1,024):
 * input -> MatMul [64, rows*hidden] -> Reshape [rows, hidden] -> Relu -> layers x (MatMul [hidden,
 * hidden] -> Relu) -> ReduceMean over rows -> MatMul [hidden, 16] -> Relu -> output. About 3 MB.
 */
export function slowModel(options: SlowModelOptions = {}): Buffer {
  const { rows = 16, hidden = 256, layers = 8 } = options;
  const branch = slowBranch(options, OUTPUT_NAME);
  const graph = {
    name: 'slow',
    node: branch.nodes,
    initializer: branch.initializer,
    input: [tensorValue(INPUT_NAME, INPUT_SHAPE)],
    output: [tensorValue(OUTPUT_NAME, OUTPUT_SHAPE)],
  };
  return encode(
    modelProto(
      graph,
      `slow test model: ${layers} x [${rows},${hidden}]x[${hidden},${hidden}] MatMul`,
    ),
  );
}

/**
 * fastModel()'s outputs, exactly, at slowModel()'s cost: the fast graph plus 0 x the slow one (a
 * candidate that agrees fully and is slower). onnxruntime does not fold away a product with a
 * computed operand, so the slow branch runs on every inference.
 */
export function slowTwinModel(options: SlowModelOptions = {}): Buffer {
  const fast = matMulReluGraph(FAST_SEED, 'slow-twin');
  const branch = slowBranch(options, 'slow_out');
  const graph = {
    name: 'slow-twin',
    node: [
      node('MatMul', [INPUT_NAME, 'W'], 'matmul'),
      node('Relu', ['matmul'], 'fast_out'),
      ...branch.nodes,
      node('Mul', ['slow_out', 'zero'], 'nothing'),
      node('Add', ['fast_out', 'nothing'], OUTPUT_NAME),
    ],
    initializer: [
      ...fast.initializer!,
      ...branch.initializer,
      floatTensor('zero', [1], Float32Array.of(0)),
    ],
    input: [tensorValue(INPUT_NAME, INPUT_SHAPE)],
    output: [tensorValue(OUTPUT_NAME, OUTPUT_SHAPE)],
  };
  return encode(modelProto(graph, 'fast MatMul+Relu at the cost of the slow model'));
}

/** slowModel()'s nodes and weights, its [1,16] result named `output`. */
function slowBranch(options: SlowModelOptions, output: string) {
  const { rows = 16, hidden = 256, layers = 8 } = options;
  const width = INPUT_SHAPE[1];
  const nodes = [
    node('MatMul', [INPUT_NAME, 'W_in'], 'spread'),
    node('Reshape', ['spread', 'rows_shape'], 'rows'),
    node('Relu', ['rows'], 'h0'),
  ];
  const initializer = [
    floatTensor('W_in', [width, rows * hidden], weights(SLOW_SEED, width, rows * hidden)),
    int64Tensor('rows_shape', [rows, hidden]),
  ];
  for (let l = 1; l <= layers; l++) {
    initializer.push(
      floatTensor(`W${l}`, [hidden, hidden], weights(SLOW_SEED + l, hidden, hidden)),
    );
    nodes.push(node('MatMul', [`h${l - 1}`, `W${l}`], `m${l}`), node('Relu', [`m${l}`], `h${l}`));
  }
  const intAttr = onnx.AttributeProto.AttributeType;
  nodes.push(
    node('ReduceMean', [`h${layers}`], 'pooled', [
      { name: 'axes', type: intAttr.INTS, ints: [0] },
      { name: 'keepdims', type: intAttr.INT, i: 1 },
    ]),
    node('MatMul', ['pooled', 'W_out'], 'logits'),
    node('Relu', ['logits'], output),
  );
  initializer.push(
    floatTensor(
      'W_out',
      [hidden, OUTPUT_SHAPE[1]],
      weights(SLOW_SEED - 1, hidden, OUTPUT_SHAPE[1]),
    ),
  );
  return { nodes, initializer };
}

/**
 * input [dims] float32 -> ReduceSum over every axis -> output [] (a scalar): a model that declares
 * whatever input size a test asks for, in a few bytes; onnxruntime allocates nothing for it at load.
 */
export function wideInputModel(dims: readonly number[]): Buffer {
  const keepdims = { name: 'keepdims', type: onnx.AttributeProto.AttributeType.INT, i: 0 };
  const graph = {
    name: 'wide',
    node: [node('ReduceSum', [INPUT_NAME], OUTPUT_NAME, [keepdims])],
    input: [tensorValue(INPUT_NAME, dims)],
    output: [tensorValue(OUTPUT_NAME, [])],
  };
  return encode(modelProto(graph, `wide input test model: [${dims.join(', ')}] float32`));
}

/** The first half of fastModel(): an interrupted copy that no ONNX reader accepts. */
export function corruptModel(): Buffer {
  const whole = fastModel();
  return Buffer.from(whole.subarray(0, Math.floor(whole.length / 2)));
}

/** What fastModel() ('fast') or goldenMismatchModel() computes for a [1,64] input, in float64 then rounded. */
export function referenceOutput(
  model: 'fast' | 'golden-mismatch',
  input: Float32Array,
): Float32Array {
  const [, n] = INPUT_SHAPE;
  const m = OUTPUT_SHAPE[1];
  if (input.length !== n) throw new RangeError(`input must have ${n} values`);
  const w = weights(model === 'fast' ? FAST_SEED : MISMATCH_SEED, n, m);
  const output = new Float32Array(m);
  for (let j = 0; j < m; j++) {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += input[k]! * w[k * m + j]!;
    output[j] = Math.max(0, sum);
  }
  return output;
}

export interface Golden {
  inputName: string;
  inputShape: number[];
  input: Float32Array;
  outputName: string;
  outputShape: number[];
  /** What fastModel() must answer, within GOLDEN_ATOL. */
  output: Float32Array;
}

/** A fixed input in [-1, 1) and fastModel()'s expected output for it. */
export function fastGolden(): Golden {
  const next = prng(GOLDEN_INPUT_SEED);
  const input = new Float32Array(INPUT_SHAPE[1]);
  for (let i = 0; i < input.length; i++) input[i] = next() * 2 - 1;
  return {
    inputName: INPUT_NAME,
    inputShape: [...INPUT_SHAPE],
    input,
    outputName: OUTPUT_NAME,
    outputShape: [...OUTPUT_SHAPE],
    output: referenceOutput('fast', input),
  };
}

// --- a large model, written by streaming -----------------------------------------------------------

const CHUNK_BYTES = 1024 * 1024;

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** Key and length of a length-delimited field. */
function lengthPrefix(field: number, length: number): Buffer {
  return Buffer.concat([varint(field * 8 + 2), varint(length)]);
}

/**
 * Every byte of the large model except the padding's raw_data. Protobuf merges repeated
 * occurrences of a message, so the graph is fastModel's graph followed by one more initializer
 * field: a UINT8 tensor 'padding' of `n` bytes that no node uses (engines drop it on load).
 */
function largeLayout(n: number, docPad: number) {
  const prologue = encode({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: PRODUCER_NAME,
    producerVersion: PRODUCER_VERSION,
  });
  // ModelProto.doc_string, sized to land the file on the exact byte count asked for
  const doc = Buffer.concat([lengthPrefix(6, docPad), Buffer.alloc(docPad, ' ')]);
  const graphBody = onnx.GraphProto.encode(matMulReluGraph(FAST_SEED, 'large')).finish();
  const paddingHead = Buffer.concat([
    onnx.TensorProto.encode({ name: 'padding', dims: [n], dataType: UINT8 }).finish(),
    lengthPrefix(9, n),
  ]);
  const initializerLength = paddingHead.length + n;
  const graphLength =
    graphBody.length + lengthPrefix(5, initializerLength).length + initializerLength;
  const head = Buffer.concat([
    prologue,
    doc,
    lengthPrefix(7, graphLength),
    graphBody,
    lengthPrefix(5, initializerLength),
    paddingHead,
  ]);
  return { head, total: head.length + n };
}

/** Bytes of the smallest model writeLargeOnnxModel() can write. */
export const MIN_LARGE_MODEL_BYTES = largeLayout(0, 0).total;

let padding: Buffer | null = null;

/** 1 MiB of seeded pseudo-random bytes, made once and never modified. */
function paddingBlock(): Buffer {
  if (!padding) {
    const next = prng(PADDING_SEED);
    padding = Buffer.alloc(CHUNK_BYTES);
    for (let i = 0; i < padding.length; i += 4)
      padding.writeUInt32LE(Math.floor(next() * 2 ** 32), i);
  }
  return padding;
}

/**
 * The bytes of a valid ONNX model of exactly `totalBytes` bytes, 1 MiB at a time: fastModel's graph
 * plus an unused UINT8 initializer whose raw_data (pseudo-random, so it does not compress) fills the
 * rest. The padding chunks are views of one Buffer that is never modified, so memory stays at 1 MiB.
 */
export function* largeOnnxModelChunks(totalBytes: number): Generator<Buffer> {
  checkLargeSize(totalBytes);
  let n = totalBytes - MIN_LARGE_MODEL_BYTES;
  let layout = largeLayout(n, 0);
  // longer varints can overshoot by a few bytes; the doc string then takes up the slack
  while (layout.total > totalBytes) {
    n -= layout.total - totalBytes;
    layout = largeLayout(n, 0);
  }
  layout = largeLayout(n, totalBytes - layout.total);

  const block = paddingBlock();
  yield layout.head;
  for (let left = n; left > 0; left -= block.length) {
    yield left >= block.length ? block : block.subarray(0, left);
  }
}

/** Writes largeOnnxModelChunks(totalBytes) to `path` by streaming, never holding the model in memory. */
export async function writeLargeOnnxModel(path: string, totalBytes: number): Promise<void> {
  checkLargeSize(totalBytes); // before the file is created
  await pipeline(Readable.from(largeOnnxModelChunks(totalBytes)), createWriteStream(path));
}

function checkLargeSize(totalBytes: number): void {
  if (!Number.isSafeInteger(totalBytes) || totalBytes < MIN_LARGE_MODEL_BYTES) {
    throw new RangeError(
      `a large test model needs at least ${MIN_LARGE_MODEL_BYTES} bytes, got ${totalBytes}`,
    );
  }
}
