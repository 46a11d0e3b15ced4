import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import ort from 'onnxruntime-node';
import type { ModelRef } from '@sentinel/broker/protocol';
import { ServingGauge } from '../inference/serving-gauge.js';
import { ShadowRunner, shadowMayRun, type ShadowCandidate } from './shadow-runner.js';

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
/** One event-loop turn (the runner looks at an idle serving path again one turn later). */
const turn = () => new Promise((resolve) => setImmediate(resolve));

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
    /** Ends the run waiting (waits for one to start first: runs start a turn after a sample). */
    release: async () => {
      for (let turns = 0; waiting.length === 0; turns += 1) {
        if (turns > 1000) throw new Error('no candidate run to release');
        await new Promise((resolve) => setImmediate(resolve));
      }
      while (waiting.length > 0) waiting.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

describe('shadow runner', () => {
  it('runs sampled inputs one at a time, drops what the queue cannot hold, and reports', async () => {
    const runner = new ShadowRunner(() => 0);
    const { c, runs, release } = candidate([0.1, 0.9]);
    runner.setCandidate(c);
    // One about to run, two queued, the other three dropped: the serving path never waits.
    for (let i = 0; i < 6; i += 1) runner.offer(feeds, tensor([0.2, 0.8]), 3);
    assert.equal(runs(), 0, 'not in the turn of the served inference');
    await turn();
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
    for (let n = 0; n < 4; n += 1) await release(); // the 4 sampled
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

  it('runs the candidate only while no served inference is in flight', async () => {
    const gauge = new ServingGauge();
    const runner = new ShadowRunner(() => 0, gauge);
    const { c, runs, release } = candidate([0.1, 0.9]);
    runner.setCandidate(c);
    gauge.enter(); // a served inference in flight
    runner.offer(feeds, tensor([0.2, 0.8]), 1);
    await turn();
    assert.equal(runs(), 0, 'waits for the serving path');
    // It ends, and its caller asks for the next one in the same turn: that one goes first.
    gauge.leave();
    gauge.enter();
    await turn();
    assert.equal(runs(), 0, 'a served inference was asked for meanwhile');
    gauge.leave();
    await turn();
    assert.equal(runs(), 1, 'idle: the candidate runs');
    await release();
    await runner.idle();
    assert.equal(runner.take()!.samples, 1);
  });

  it('runs a sample anyway after so many served inferences when the serving path never idles', async () => {
    const gauge = new ServingGauge();
    const runner = new ShadowRunner(() => 0, gauge, 3);
    const { c, runs, release } = candidate([0.1, 0.9], { queue: 4 });
    runner.setCandidate(c);
    gauge.enter();
    gauge.enter(); // two callers, one always in flight
    runner.offer(feeds, tensor([0.2, 0.8]), 1);
    runner.offer(feeds, tensor([0.2, 0.8]), 1);
    const served = async (n: number) => {
      for (let i = 0; i < n; i += 1) {
        gauge.leave();
        gauge.enter();
        await turn();
      }
    };
    await served(2);
    assert.equal(runs(), 0);
    await served(1);
    assert.equal(runs(), 1, 'starved after 3 served inferences');
    await release();
    await served(2);
    assert.equal(runs(), 1, 'the next one waits 3 more from the end of that run');
    await served(1);
    assert.equal(runs(), 2);
    await release();
    await runner.idle();
    assert.equal(runner.take()!.samples, 2);
  });

  it('decides a candidate run from the serving path (shadowMayRun)', () => {
    assert.equal(shadowMayRun(false, 0, 10), true, 'idle');
    assert.equal(shadowMayRun(true, 9, 10), false, 'busy, not starved');
    assert.equal(shadowMayRun(true, 10, 10), true, 'busy and starved');
  });
});
