import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyBatcher } from './key-batcher.js';

/** A loader that records its calls and answers key -> key * 10 for even keys only. */
function recordingLoader() {
  const calls: number[][] = [];
  const load = async (keys: number[]) => {
    calls.push(keys);
    return new Map(keys.filter((k) => k % 2 === 0).map((k) => [k, k * 10]));
  };
  return { calls, load };
}

describe('KeyBatcher', () => {
  it('loads the keys asked for in one turn with one call, and resolves each waiter', async () => {
    const { calls, load } = recordingLoader();
    const batcher = new KeyBatcher(load, { maxBatch: 1000, maxInFlight: 1 });
    const keys = Array.from({ length: 100 }, (_, i) => i);
    const values = await Promise.all(keys.map((k) => batcher.load(k)));
    assert.equal(calls.length, 1);
    assert.equal(calls[0].length, 100);
    assert.deepEqual(values.slice(0, 4), [0, undefined, 20, undefined]);
  });

  it('asks for a key once however many callers wait for it', async () => {
    const { calls, load } = recordingLoader();
    const batcher = new KeyBatcher(load, { maxBatch: 1000, maxInFlight: 1 });
    const values = await Promise.all([batcher.load(4), batcher.load(4), batcher.load(6)]);
    assert.deepEqual(calls, [[4, 6]]);
    assert.deepEqual(values, [40, 40, 60]);
  });

  it('splits more keys than maxBatch into several loads', async () => {
    const { calls, load } = recordingLoader();
    const batcher = new KeyBatcher(load, { maxBatch: 40, maxInFlight: 2 });
    await Promise.all(Array.from({ length: 100 }, (_, i) => batcher.load(i)));
    // 100 keys / 40 per load -> 40 + 40 + 20
    assert.deepEqual(
      calls.map((c) => c.length),
      [40, 40, 20],
    );
  });

  it('keeps at most maxInFlight loads running and sends what piled up meanwhile together', async () => {
    const releases: (() => void)[] = [];
    const calls: number[][] = [];
    let running = 0;
    let mostRunning = 0;
    const batcher = new KeyBatcher(
      async (keys: number[]) => {
        calls.push(keys);
        running += 1;
        mostRunning = Math.max(mostRunning, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        return new Map(keys.map((k) => [k, k]));
      },
      { maxBatch: 1000, maxInFlight: 1 },
    );
    const first = batcher.load(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3, 4].map((k) => batcher.load(k));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, [[1]]); // 2, 3, 4 wait for the running load
    releases.shift()!();
    assert.equal(await first, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, [[1], [2, 3, 4]]);
    releases.shift()!();
    assert.deepEqual(await Promise.all(later), [2, 3, 4]);
    assert.equal(mostRunning, 1);
  });

  it('rejects every waiter of a failed load, and the next load starts afresh', async () => {
    let fail = true;
    const batcher = new KeyBatcher(
      async (keys: string[]) => {
        if (fail) throw new Error('database down');
        return new Map(keys.map((k) => [k, k.toUpperCase()]));
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    const results = await Promise.allSettled([batcher.load('a'), batcher.load('b')]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    fail = false;
    assert.equal(await batcher.load('a'), 'A');
  });

  it('under load gathers keys for gatherMs, and after a quiet spell loads at once', async () => {
    const { calls, load } = recordingLoader();
    let clock = 1_000;
    const timers: { run: () => void; ms: number }[] = [];
    const batcher = new KeyBatcher(load, {
      maxBatch: 1000,
      maxInFlight: 2,
      gatherMs: 20,
      now: () => clock,
      delay: (run, ms) => timers.push({ run, ms }),
    });
    const turn = () => new Promise((resolve) => setImmediate(resolve));

    // Nothing loaded lately: the next turn, as without gatherMs.
    const first = batcher.load(2);
    await turn();
    assert.deepEqual(calls, [[2]]);
    assert.equal(await first, 20);

    // A load started 5 ms ago: these wait for the timer, however many turns pass.
    clock += 5;
    const gathered = [4, 5, 6].map((k) => batcher.load(k));
    await turn();
    await turn();
    assert.deepEqual(calls, [[2]]);
    assert.deepEqual(
      timers.map((t) => t.ms),
      [20],
    );
    timers.shift()!.run();
    assert.deepEqual(await Promise.all(gathered), [40, undefined, 60]);
    assert.deepEqual(calls, [[2], [4, 5, 6]]);

    // 20 ms or more after the last load started: at once again.
    clock += 20;
    const quiet = batcher.load(8);
    await turn();
    assert.equal(await quiet, 80);
    assert.deepEqual(calls, [[2], [4, 5, 6], [8]]);
    assert.equal(timers.length, 0);
  });
});
