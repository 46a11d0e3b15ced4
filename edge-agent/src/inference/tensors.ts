import ort from 'onnxruntime-node';

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

/**
 * A zero-filled feed for every tensor input of a session, symbolic dims taken as 1: the input of
 * warm-up inferences and of simulated frames when the model declares no golden input.
 */
export function syntheticFeeds(
  inputs: readonly ort.InferenceSession.ValueMetadata[],
  fill: (i: number) => number = () => 0,
): Feeds {
  const feeds: Feeds = {};
  for (const input of inputs) {
    if (!input.isTensor) throw new TypeError(`input "${input.name}" is not a tensor`);
    const dims = input.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
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
    } else if (type === 'uint8') {
      feeds[input.name] = new ort.Tensor('uint8', new Uint8Array(size), dims);
    } else {
      throw new TypeError(`input "${input.name}" has unsupported type ${type}`);
    }
  }
  return feeds;
}
