import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WriteBuffer } from './write-buffer.js';

class Refusal extends Error {
  constructor(readonly rejected?: number) {
    super('field type conflict');
  }
}

interface PendingWrite {
  batch: number[];
  resolve(): void;
  reject(error: Error): void;
}

/**
 * A buffer over a store whose writes the test settles one by one (`manual`), or that answers at
 * once: stores the batch, or throws while `fail` is set.
 */
function harness({ capacity = 5, batchSize = 2, concurrency = 1, manual = false } = {}) {
  let now = 0;
  let fail = false;
  const written: number[][] = [];
  const attempts: number[][] = [];
  const pending: PendingWrite[] = [];
  const counts = { written: 0, dropped: 0, refused: 0, errors: 0 };
  const buffer = new WriteBuffer<number>({
    capacity,
    batchSize,
    concurrency,
    minBackoffMs: 100,
    maxBackoffMs: 1000,
    random: () => 1,
    now: () => now,
    write: async (batch) => {
      attempts.push(batch);
      if (manual) {
        await new Promise<void>((resolve, reject) => pending.push({ batch, resolve, reject }));
      } else if (fail) {
        throw new Error('store down');
      }
      written.push(batch);
    },
    refused: (error, n) => (error instanceof Refusal ? (error.rejected ?? n) : null),
    onWritten: (n) => (counts.written += n),
    onDropped: (n) => (counts.dropped += n),
    onRefused: (n) => (counts.refused += n),
    onError: () => (counts.errors += 1),
  });
  /** Settles the pending write that holds `first`. */
  const settle = async (first: number, error?: Error) => {
    const index = pending.findIndex((p) => p.batch[0] === first);
    assert.ok(index >= 0, `no write in flight starts with ${first}`);
    const [write] = pending.splice(index, 1);
    if (error) write!.reject(error);
    else write!.resolve();
    // Let the lane record the outcome and take its next batch.
    await new Promise((resolve) => setImmediate(resolve));
  };
  return {
    buffer,
    written,
    attempts,
    counts,
    inFlight: () => pending.map((p) => p.batch),
    settle,
    advance: (ms: number) => (now += ms),
    setFail: (v: boolean) => (fail = v),
    pushAll: (...items: number[]) => items.forEach((i) => buffer.push(i)),
  };
}

describe('WriteBuffer', () => {
  it('writes in batches, oldest first', async () => {
    const h = harness();
    h.pushAll(1, 2, 3);
    await h.buffer.flush();
    assert.deepEqual(h.written, [[1, 2], [3]]);
    assert.equal(h.buffer.size, 0);
    assert.equal(h.counts.written, 3);
  });

  it('keeps a failed batch, backs off exponentially, and writes it when the store is back', async () => {
    const h = harness();
    h.setFail(true);
    h.pushAll(1, 2);
    await h.buffer.flush();
    assert.equal(h.counts.errors, 1);
    assert.equal(h.buffer.size, 2);
    h.setFail(false);
    await h.buffer.flush(); // within the 100 ms backoff: nothing
    assert.deepEqual(h.written, []);
    h.advance(100);
    await h.buffer.flush();
    assert.deepEqual(h.written, [[1, 2]]);
    assert.equal(h.buffer.failing, 0);
  });

  it('doubles the backoff per consecutive failure, up to the maximum', async () => {
    const h = harness();
    h.setFail(true);
    h.pushAll(1);
    // random() = 1: the whole ceiling, 100, 200, 400, 800, then 1000 ms.
    for (const wait of [100, 200, 400, 800, 1000, 1000]) {
      await h.buffer.flush();
      const tries = h.attempts.length;
      h.advance(wait - 1);
      await h.buffer.flush();
      assert.equal(h.attempts.length, tries, `no retry before ${wait} ms`);
      h.advance(1);
    }
    assert.equal(h.buffer.failing, 6);
  });

  it('drops the oldest items beyond the capacity and counts them', async () => {
    const h = harness({ capacity: 3 });
    h.setFail(true);
    h.pushAll(1, 2, 3, 4, 5);
    assert.equal(h.counts.dropped, 2);
    assert.equal(h.buffer.size, 3);
    h.setFail(false);
    h.advance(1000);
    await h.buffer.flush();
    assert.deepEqual(h.written.flat(), [3, 4, 5]);
  });

  it('never drops an item that is being written: overflow takes the oldest queued ones', async () => {
    const h = harness({ capacity: 3, batchSize: 2, manual: true });
    h.pushAll(1, 2, 3);
    const flushing = h.buffer.flush(); // [1, 2] in flight, [3] queued
    h.pushAll(4, 5); // 5 held > 3: 3 then 4 go, counted once each
    assert.equal(h.counts.dropped, 2);
    assert.equal(h.buffer.size, 3);
    await h.settle(1);
    await h.settle(5);
    await flushing;
    assert.deepEqual(h.written, [[1, 2], [5]]);
    // Every pushed item counted exactly once: 3 written + 2 dropped = 5.
    assert.equal(h.counts.written, 3);
    assert.equal(h.counts.written + h.counts.dropped, 5);
    assert.equal(h.buffer.size, 0);
  });
});

describe('WriteBuffer with several writes in flight', () => {
  it('sends up to `concurrency` batches at once, and the next when a lane is free', async () => {
    const h = harness({ capacity: 100, batchSize: 2, concurrency: 3, manual: true });
    h.pushAll(1, 2, 3, 4, 5, 6, 7, 8);
    const flushing = h.buffer.flush();
    assert.deepEqual(h.inFlight(), [
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    assert.equal(h.buffer.size, 8); // in flight still counts as held
    await h.settle(3); // the middle one answers first: its lane takes [7, 8]
    assert.deepEqual(h.inFlight(), [
      [1, 2],
      [5, 6],
      [7, 8],
    ]);
    await h.settle(7);
    await h.settle(1);
    await h.settle(5);
    await flushing;
    assert.deepEqual(
      h.written.flat().sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.equal(h.counts.written, 8);
    assert.equal(h.buffer.size, 0);
  });

  it('puts a failed batch back at the front while the others are written, and retries it first', async () => {
    const h = harness({ capacity: 100, batchSize: 2, concurrency: 2, manual: true });
    h.pushAll(1, 2, 3, 4, 5, 6);
    const flushing = h.buffer.flush(); // [1, 2] and [3, 4]
    await h.settle(1, new Error('timeout'));
    // The failure starts a backoff: [3, 4] is still being written, nothing new is sent.
    assert.deepEqual(h.inFlight(), [[3, 4]]);
    await h.settle(3);
    await flushing;
    assert.deepEqual(h.written, [[3, 4]]);
    assert.equal(h.buffer.size, 4); // [1, 2] back in front of [5, 6]
    assert.equal(h.counts.errors, 1);

    h.advance(100);
    const retrying = h.buffer.flush();
    // [3, 4] went through, so the store is answering: both lanes again, the failed batch first.
    assert.deepEqual(h.inFlight(), [
      [1, 2],
      [5, 6],
    ]);
    await h.settle(1);
    await h.settle(5);
    await retrying;
    assert.deepEqual(h.written, [
      [3, 4],
      [1, 2],
      [5, 6],
    ]);
    assert.equal(h.counts.written, 6); // each item once, none lost
    assert.equal(h.buffer.size, 0);
    assert.equal(h.buffer.failing, 0);
  });

  it('while the store is down, sends one batch per backoff instead of one per lane', async () => {
    const h = harness({ capacity: 100, batchSize: 2, concurrency: 3 });
    h.setFail(true);
    h.pushAll(1, 2, 3, 4, 5, 6);
    await h.buffer.flush(); // the first round: three lanes, three failures
    assert.equal(h.attempts.length, 3);
    h.advance(1000);
    await h.buffer.flush();
    assert.equal(h.attempts.length, 4);
    h.setFail(false);
    h.advance(1000);
    await h.buffer.flush(); // the probe succeeds and its lane writes the rest
    assert.equal(h.counts.written, 6);
    assert.equal(h.buffer.size, 0);
  });

  it('counts overflow once when writes in flight fail and come back', async () => {
    const h = harness({ capacity: 6, batchSize: 2, concurrency: 2, manual: true });
    h.pushAll(1, 2, 3, 4, 5, 6);
    const flushing = h.buffer.flush(); // [1, 2] and [3, 4] in flight, [5, 6] queued
    h.pushAll(7, 8); // 8 held > 6: 5 and 6 go
    assert.equal(h.counts.dropped, 2);
    await h.settle(1, new Error('503'));
    await h.settle(3, new Error('503'));
    await flushing;
    // Back at the front, oldest first to go: 1, 2, 3, 4 (order between batches is free), 7, 8.
    assert.equal(h.buffer.size, 6);
    h.pushAll(9, 10); // two more beyond capacity: the two oldest queued go
    assert.equal(h.counts.dropped, 4);
    h.advance(1000);
    const retrying = h.buffer.flush();
    while (h.inFlight().length > 0) await h.settle(h.inFlight()[0]![0]!);
    await retrying;
    const written = h.written.flat();
    assert.equal(new Set(written).size, written.length, 'nothing written twice');
    // 10 pushed = 6 written + 4 dropped, each counted once.
    assert.equal(h.counts.written, 6);
    assert.equal(h.counts.written + h.counts.dropped, 10);
    assert.deepEqual(written.slice(-2), [9, 10], 'the newest items survive');
  });

  it('resolves flush() only when the writes already running are done (shutdown)', async () => {
    const h = harness({ capacity: 100, batchSize: 2, concurrency: 2, manual: true });
    h.pushAll(1, 2, 3);
    void h.buffer.flush(); // the timer's flush
    let done = false;
    const shutdown = h.buffer.flush().then(() => (done = true));
    await h.settle(1);
    assert.equal(done, false, '[3] is still being written');
    await h.settle(3);
    await shutdown;
    assert.equal(h.counts.written, 3);
  });
});

describe('WriteBuffer when the store refuses a batch for good', () => {
  it('drops it, counted as refused, and goes on with the next batch without backing off', async () => {
    const h = harness({ capacity: 100, batchSize: 2, concurrency: 1, manual: true });
    h.pushAll(1, 2, 3, 4);
    const flushing = h.buffer.flush();
    await h.settle(1, new Refusal());
    assert.deepEqual(h.inFlight(), [[3, 4]], 'not retried, and no backoff');
    await h.settle(3);
    await flushing;
    assert.deepEqual(h.written, [[3, 4]]);
    assert.equal(h.counts.refused, 2);
    assert.equal(h.counts.written, 2);
    assert.equal(h.counts.errors, 0);
    assert.equal(h.buffer.failing, 0);
    assert.equal(h.buffer.size, 0);
  });

  it('counts the stored part of a partial write as written', async () => {
    const h = harness({ capacity: 100, batchSize: 4, manual: true });
    h.pushAll(1, 2, 3, 4);
    const flushing = h.buffer.flush();
    await h.settle(1, new Refusal(1)); // "partial write: ... dropped=1"
    await flushing;
    assert.equal(h.counts.refused, 1);
    assert.equal(h.counts.written, 3);
    assert.equal(h.buffer.size, 0);
  });
});

describe('WriteBuffer when full', () => {
  it('keeps pushing cheap: a million pushes over a full buffer of 200,000', () => {
    let dropped = 0;
    const buffer = new WriteBuffer<number>({
      capacity: 200_000,
      batchSize: 5000,
      concurrency: 3,
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

  it('keeps pushing cheap while batches are in flight and failing', async () => {
    let dropped = 0;
    let written = 0;
    let calls = 0;
    let now = 0;
    const buffer = new WriteBuffer<number>({
      capacity: 50_000,
      batchSize: 5000,
      concurrency: 3,
      minBackoffMs: 1,
      maxBackoffMs: 1,
      now: () => now,
      write: async () => {
        // Every other write fails: batches keep coming back to the front.
        if (++calls % 2 === 0) throw new Error('flaky');
      },
      onDropped: (n) => (dropped += n),
      onWritten: (n) => (written += n),
    });
    for (let i = 0; i < 600_000; i++) {
      buffer.push(i);
      if (i % 10_000 === 0) {
        now += 10;
        void buffer.flush();
      }
    }
    while (buffer.size > 0) {
      now += 10;
      await buffer.flush();
    }
    assert.equal(written + dropped, 600_000);
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
