import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import type { ModelRef } from '@sentinel/broker/protocol';
import { ShadowRunner, type ShadowCandidate } from './shadow-runner.js';

const model: ModelRef = {
  id: '00000000-0000-4000-8000-000000000002',
  name: 'det',
  version: '2.0.0',
  sha256: 'b'.repeat(64),
  size: 1,
  url: 'http://127.0.0.1/x',
  signature: null,
};
const tensor = (values: number[]) => ({
  y: new ort.Tensor('float32', Float32Array.from(values), [1, values.length]),
});
const feeds = { x: new ort.Tensor('float32', Float32Array.from([1, 2]), [1, 2]) };

/** A candidate whose runs wait for `release()`; it answers `answer`. */
function candidate(answer: number[], options: Partial<ShadowCandidate> = {}) {
  const waiting: (() => void)[] = [];
  let runs = 0;
  const c: ShadowCandidate = {
    model,
    deploymentId: 'dep-1',
    settings: { comparison: 'top1', output: null, minScore: 0 },
    sampleRate: 1,
    queue: 2,
    run: async () => {
      runs += 1;
      await new Promise<void>((resolve) => waiting.push(resolve));
      return tensor(answer);
    },
    ...options,
  };
  return {
    c,
    runs: () => runs,
    release: async () => {
      while (waiting.length > 0) waiting.shift()!();
      await new Promise((resolve) => setTimeout(resolve, 1));
    },
  };
}

describe('shadow runner', () => {
  it('runs sampled inputs one at a time, drops what the queue cannot hold, and reports', async () => {
    const runner = new ShadowRunner(() => 0);
    const { c, runs, release } = candidate([0.1, 0.9]);
    runner.setCandidate(c);
    // One running, two queued, the other three dropped: the serving path never waits.
    for (let i = 0; i < 6; i += 1) runner.offer(feeds, tensor([0.2, 0.8]), 3);
    assert.equal(runs(), 1);
    for (let i = 0; i < 3; i += 1) await release();
    await runner.idle();
    const block = runner.take()!;
    assert.equal(block.samples, 3);
    assert.equal(block.dropped, 3);
    assert.equal(block.errors, 0);
    assert.equal(block.agreement, 1, 'same best class');
    assert.equal(block.active_latency_ms?.p95, 3);
    assert.equal(block.model_version, '2.0.0');
    assert.equal(block.comparison, 'top1');
    assert.equal(runner.take()!.samples, 0, 'a new window');
  });

  it('samples at the rate asked, and measures disagreement', async () => {
    let i = 0;
    const runner = new ShadowRunner(() => (i++ % 4) / 4); // 0, .25, .5, .75, ...
    const { c, release } = candidate([0.9, 0.1], { sampleRate: 0.5, queue: 64 });
    runner.setCandidate(c);
    for (let n = 0; n < 8; n += 1) runner.offer(feeds, tensor([0.1, 0.9]), 1);
    for (let n = 0; n < 8; n += 1) await release();
    await runner.idle();
    const block = runner.take()!;
    assert.equal(block.samples, 4, 'half of 8');
    assert.equal(block.agreement, 0, 'another best class every time');
  });

  it('counts candidate errors, and stops with no candidate', async () => {
    const runner = new ShadowRunner(() => 0);
    runner.setCandidate({
      ...candidate([1]).c,
      run: () => Promise.reject(new Error('bad')),
    });
    runner.offer(feeds, tensor([1]), 1);
    await runner.idle();
    assert.equal(runner.take()!.errors, 1);
    runner.setCandidate(null);
    runner.offer(feeds, tensor([1]), 1);
    assert.equal(runner.take(), null);
  });
});
