import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type ort from 'onnxruntime-node';
import { AgentError } from '../errors.js';
import { DEFAULT_MAX_INPUT_BYTES, feedBytes, syntheticFeeds } from './tensors.js';

type Meta = ort.InferenceSession.ValueMetadata;
const tensor = (name: string, type: string, shape: (number | string)[]): Meta =>
  ({ name, isTensor: true, type, shape }) as Meta;

describe('feedBytes', () => {
  it('counts declared elements times their size, symbolic and unknown dims as 1', () => {
    assert.equal(feedBytes([tensor('a', 'float32', [1, 3, 4, 4])]), 4 * 48);
    assert.equal(feedBytes([tensor('a', 'float32', ['batch', 64])]), 4 * 64);
    assert.equal(feedBytes([tensor('a', 'int64', [-1, 10]), tensor('b', 'uint8', [7])]), 87);
    assert.equal(feedBytes([tensor('a', 'float32', [])]), 4);
  });

  it('does not overflow into a small number for absurd shapes', () => {
    const absurd = feedBytes([tensor('a', 'float32', [2 ** 40, 2 ** 40, 2 ** 40])]);
    assert.ok(absurd > Number.MAX_SAFE_INTEGER);
  });

  it('refuses non-tensor and unsupported inputs', () => {
    assert.throws(() => feedBytes([{ name: 'm', isTensor: false } as Meta]), /not a tensor/);
    assert.throws(() => feedBytes([tensor('s', 'string', [1])]), /unsupported type string/);
  });
});

describe('syntheticFeeds and its budget', () => {
  it('allocates within the budget', () => {
    const feeds = syntheticFeeds([tensor('x', 'float32', [1, 8])], () => 1, 32);
    assert.deepEqual([...(feeds.x!.data as Float32Array)], new Array(8).fill(1));
  });

  it('refuses with too_large over the budget (64 MiB by default), naming inputs and setting', () => {
    assert.equal(DEFAULT_MAX_INPUT_BYTES, 64 * 1024 * 1024);
    // 3 GB declared: refused from the shape alone; allocating it would take the process down.
    const huge = [tensor('image', 'float32', [1, 3, 16384, 16384])];
    assert.throws(
      () => syntheticFeeds(huge),
      (error: unknown) => {
        assert.ok(error instanceof AgentError);
        assert.equal(error.reason, 'too_large');
        assert.match(error.message, /image \[1, 3, 16384, 16384\]/);
        assert.match(error.message, /3221225472 bytes/);
        assert.match(error.message, /SENTINEL_MAX_INPUT_BYTES/);
        return true;
      },
    );
    assert.throws(() => syntheticFeeds([tensor('x', 'float32', [1, 8])], undefined, 31), {
      name: 'AgentError',
    });
  });
});
