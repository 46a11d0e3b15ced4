import ort from 'onnxruntime-node';
import { AgentError } from '../errors.js';

/** A tensor as JSON carries it: dims and a flat array of numbers (float32 unless `type` says). */
export interface JsonTensor {
  dims: number[];
  data: number[];
  type?: 'float32' | 'int32' | 'int64' | 'uint8';
}

export type Feeds = Record<string, ort.Tensor>;

export function toTensor(name: string, value: JsonTensor): ort.Tensor {
  if (!Array.isArray(value?.dims) || !value.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TypeError(`input "${name}": dims must be an array of non-negative integers`);
  }
  if (!Array.isArray(value.data) || !value.data.every((v) => typeof v === 'number')) {
    throw new TypeError(`input "${name}": data must be an array of numbers`);
  }
  const expected = value.dims.reduce((a, b) => a * b, 1);
  if (expected !== value.data.length) {
    throw new TypeError(
      `input "${name}": dims ${JSON.stringify(value.dims)} need ${expected} values, got ${value.data.length}`,
    );
  }
  switch (value.type ?? 'float32') {
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(value.data), value.dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(value.data), value.dims);
    case 'int64':
      return new ort.Tensor(
        'int64',
        BigInt64Array.from(value.data.map((v) => BigInt(Math.trunc(v)))),
        value.dims,
      );
    case 'uint8':
      return new ort.Tensor('uint8', Uint8Array.from(value.data), value.dims);
    default:
      throw new TypeError(`input "${name}": unsupported type ${JSON.stringify(value.type)}`);
  }
}

export function fromTensor(tensor: ort.Tensor): JsonTensor {
  const data = tensor.data as ArrayLike<number | bigint>;
  return {
    dims: [...tensor.dims],
    data: Array.from(data, (v) => Number(v)),
    type: tensor.type as JsonTensor['type'],
  };
}

/** Input budget when none is configured: SENTINEL_MAX_INPUT_BYTES' default. */
export const DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024;

const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = {
  float32: 4,
  int64: 8,
  int32: 4,
  uint8: 1,
};

/** The dims of a synthetic feed: the declared ones, symbolic (or unknown) dims taken as 1. */
function feedDims(input: ort.InferenceSession.TensorValueMetadata): number[] {
  return input.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
}

/**
 * Bytes that syntheticFeeds() would allocate for these inputs, computed from the declared shapes
 * without allocating anything (a model may declare any size; the product may exceed 2^53 and is
 * then larger than any budget all the same). Throws TypeError for a non-tensor or unsupported input.
 */
export function feedBytes(inputs: readonly ort.InferenceSession.ValueMetadata[]): number {
  let total = 0;
  for (const input of inputs) {
    if (!input.isTensor) throw new TypeError(`input "${input.name}" is not a tensor`);
    const size = BYTES_PER_ELEMENT[input.type];
    if (size === undefined) {
      throw new TypeError(`input "${input.name}" has unsupported type ${input.type}`);
    }
    total += feedDims(input).reduce((a, b) => a * b, size);
  }
  return total;
}

/**
 * A zero-filled feed for every tensor input of a session, symbolic dims taken as 1: the input of
 * warm-up inferences and of simulated frames when the model declares no golden input. Inputs
 * that would take more than `maxBytes` together throw AgentError('too_large') before anything
 * is allocated.
 */
export function syntheticFeeds(
  inputs: readonly ort.InferenceSession.ValueMetadata[],
  fill: (i: number) => number = () => 0,
  maxBytes: number = DEFAULT_MAX_INPUT_BYTES,
): Feeds {
  const bytes = feedBytes(inputs);
  if (bytes > maxBytes) {
    const shapes = inputs.map((i) => `${i.name} [${i.isTensor ? i.shape.join(', ') : ''}]`);
    throw new AgentError(
      'too_large',
      `the model's inputs (${shapes.join('; ')}) take ${bytes} bytes, over this device's budget of ${maxBytes} bytes (SENTINEL_MAX_INPUT_BYTES)`,
    );
  }
  const feeds: Feeds = {};
  for (const input of inputs) {
    if (!input.isTensor) continue; // feedBytes() refused it
    const dims = feedDims(input);
    const size = dims.reduce((a, b) => a * b, 1);
    const type = input.type;
    if (type === 'float32') {
      const data = new Float32Array(size);
      for (let i = 0; i < size; i++) data[i] = fill(i);
      feeds[input.name] = new ort.Tensor('float32', data, dims);
    } else if (type === 'int64') {
      feeds[input.name] = new ort.Tensor('int64', new BigInt64Array(size), dims);
    } else if (type === 'int32') {
      feeds[input.name] = new ort.Tensor('int32', new Int32Array(size), dims);
    } else {
      feeds[input.name] = new ort.Tensor('uint8', new Uint8Array(size), dims);
    }
  }
  return feeds;
}
