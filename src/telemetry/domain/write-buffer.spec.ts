import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WriteBuffer } from './write-buffer.js';

function harness(capacity = 5, batchSize = 2) {
  let now = 0;
  const written: number[][] = [];
  let fail = false;
  let gate: Promise<void> | null = null;
  const counts = { written: 0, dropped: 0, errors: 0 };
  const buffer = new WriteBuffer<number>({
    capacity,
    batchSize,
    minBackoffMs: 100,
    maxBackoffMs: 1000,
    random: () => 1,
    now: () => now,
    write: async (batch) => {
      if (gate) await gate;
      if (fail) throw new Error('store down');
      written.push(batch);
    },
    onWritten: (n) => (counts.written += n),
    onDropped: (n) => (counts.dropped += n),
    onError: () => (counts.errors += 1),
  });
  return {
    buffer,
    written,
    counts,
    advance: (ms: number) => (now += ms),
    setFail: (v: boolean) => (fail = v),
    setGate: (g: Promise<void> | null) => (gate = g),
  };
}

describe('WriteBuffer', () => {
  it('writes in batches, oldest first', async () => {
    const h = harness();
    [1, 2, 3].forEach((i) => h.buffer.push(i));
    await h.buffer.flush();
    assert.deepEqual(h.written, [[1, 2], [3]]);
    assert.equal(h.buffer.size, 0);
    assert.equal(h.counts.written, 3);
  });

  it('keeps a failed batch, backs off exponentially, and writes it when the store is back', async () => {
    const h = harness();
    h.setFail(true);
    [1, 2].forEach((i) => h.buffer.push(i));
    await h.buffer.flush();
    assert.equal(h.counts.errors, 1);
    h.setFail(false);
    await h.buffer.flush(); // within the 100 ms backoff: nothing
    assert.deepEqual(h.written, []);
    h.advance(100);
    await h.buffer.flush();
    assert.deepEqual(h.written, [[1, 2]]);
    assert.equal(h.buffer.failing, 0);
  });

  it('drops the oldest items beyond the capacity and counts them', async () => {
    const h = harness(3);
    h.setFail(true);
    [1, 2, 3, 4, 5].forEach((i) => h.buffer.push(i));
    assert.equal(h.counts.dropped, 2);
    assert.equal(h.buffer.size, 3);
    h.setFail(false);
    h.advance(1000);
    await h.buffer.flush();
    assert.deepEqual(h.written.flat(), [3, 4, 5]);
  });

  it('accounts for items dropped while a batch was being written', async () => {
    const h = harness(3, 2);
    let release!: () => void;
    h.setGate(new Promise<void>((r) => (release = r)));
    [1, 2, 3].forEach((i) => h.buffer.push(i));
    const flushing = h.buffer.flush(); // batch [1, 2] in flight
    [4, 5].forEach((i) => h.buffer.push(i)); // overflow drops 1 and 2 from the front
    release();
    h.setGate(null);
    await flushing;
    assert.deepEqual(h.written, [[1, 2], [3, 4], [5]]);
    assert.equal(h.buffer.size, 0);
  });
});

describe('WriteBuffer when full', () => {
  it('keeps pushing cheap: a million pushes over a full buffer of 200,000', () => {
    let dropped = 0;
    const buffer = new WriteBuffer<number>({
      capacity: 200_000,
      batchSize: 5000,
      minBackoffMs: 1,
      maxBackoffMs: 1,
      write: async () => {
        throw new Error('down');
      },
      onDropped: (n) => (dropped += n),
    });
    // O(capacity) work per push would make this take minutes; the assertion is on the outcome.
    for (let i = 0; i < 1_200_000; i++) buffer.push(i);
    assert.equal(buffer.size, 200_000);
    assert.equal(dropped, 1_000_000);
  });

  it('writes the newest items after an overflow, in order', async () => {
    const written: number[] = [];
    const buffer = new WriteBuffer<number>({
      capacity: 3000,
      batchSize: 1000,
      minBackoffMs: 1,
      maxBackoffMs: 1,
      write: async (batch) => {
        written.push(...batch);
      },
    });
    for (let i = 0; i < 10_000; i++) buffer.push(i);
    await buffer.flush();
    assert.deepEqual(
      written,
      Array.from({ length: 3000 }, (_, i) => 7000 + i),
    );
    assert.equal(buffer.size, 0);
  });
});
