import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import mqemitter, { type Message } from 'mqemitter';
import { stackSafe } from './stack-safe-mq.js';

const QUEUED = 100_000;

/**
 * One slot (concurrency 1) held by a first message until `release()`; QUEUED more wait in the
 * queue. Releasing delivers them, each subscriber finishing synchronously: mqemitter's recursion.
 */
function burst(mq: ReturnType<typeof mqemitter>) {
  const seen: number[] = [];
  let release!: () => void;
  mq.on('t/#', (message: Message, done: () => void) => {
    seen.push(message.n as number);
    if (message.n === 0) release = done;
    else done();
  });
  for (let n = 0; n <= QUEUED; n++) mq.emit({ topic: 't/x', n });
  return { seen, release: () => release() };
}

describe('stackSafe (mqemitter)', () => {
  it('without it, a queue of synchronous subscribers overflows the stack (the bug it guards)', () => {
    const { release } = burst(mqemitter({ concurrency: 1 }));
    assert.throws(release, RangeError);
  });

  it('delivers the whole queue, in order, also what is emitted while a delivery waits', async () => {
    const mq = stackSafe(mqemitter({ concurrency: 1 }));
    const { seen, release } = burst(mq);
    release();
    // Emitted after the guard deferred a delivery: must queue behind the rest, not jump ahead.
    mq.emit({ topic: 't/x', n: QUEUED + 1 });
    for (let turns = 0; seen.length < QUEUED + 2 && turns < 10_000; turns++)
      await new Promise((r) => setImmediate(r));
    assert.equal(seen.length, QUEUED + 2);
    assert.ok(
      seen.every((n, i) => n === i),
      'messages delivered out of order',
    );
    assert.equal((mq as unknown as { current: number }).current, 0);
  });
});
