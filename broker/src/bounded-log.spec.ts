import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedLog } from './bounded-log.js';

function harness(lines: number, intervalMs: number) {
  let now = 0;
  const written: string[] = [];
  const scheduled: { fn: () => void; at: number }[] = [];
  const log = new BoundedLog((line) => written.push(line), {
    lines,
    intervalMs,
    now: () => now,
    schedule: (fn, ms) => scheduled.push({ fn, at: now + ms }),
  });
  return {
    log,
    written,
    scheduled,
    advance(ms: number) {
      now += ms;
      const due = scheduled.filter((j) => j.at <= now);
      scheduled.splice(0, scheduled.length, ...scheduled.filter((j) => j.at > now));
      for (const job of due) job.fn();
    },
  };
}

describe('BoundedLog', () => {
  it('writes the first lines of an interval and sums up the rest in one line', () => {
    const h = harness(3, 60_000);
    for (let i = 0; i < 1000; i++) h.log.report(`refused ${i}`);
    assert.deepEqual(h.written, ['refused 0', 'refused 1', 'refused 2']);
    assert.equal(h.scheduled.length, 1, 'one summary scheduled, not one per line');
    h.advance(60_000);
    assert.equal(h.written.length, 4);
    assert.match(h.written[3]!, /997 more like these in 60 s/);
  });

  it('starts a new interval after intervalMs and stays silent when nothing was held back', () => {
    const h = harness(2, 1000);
    h.log.report('a');
    h.advance(1000);
    assert.equal(h.log.report('b'), true);
    assert.equal(h.log.report('c'), true);
    assert.equal(h.log.report('d'), false);
    h.advance(500);
    assert.equal(h.log.report('e'), false);
    h.advance(500);
    assert.deepEqual(h.written.slice(0, 3), ['a', 'b', 'c']);
    assert.match(h.written[3]!, /^\.\.\. and 2 more/);
    assert.equal(h.log.report('f'), true);
    h.log.flush();
    assert.equal(h.written.length, 5, 'flush with nothing held back writes nothing');
  });

  it('writes at most lines + 1 per interval, however many reports come', () => {
    const h = harness(5, 10_000);
    for (let second = 0; second < 100; second++) {
      for (let i = 0; i < 50; i++) h.log.report('x');
      h.advance(1000);
    }
    // 10 intervals of 10 s: 5 lines and one summary each.
    assert.equal(h.written.length, 10 * 6);
  });
});
