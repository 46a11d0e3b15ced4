import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  admit,
  checkRatePolicy,
  currentRate,
  NO_ADMISSION,
  type Admission,
  type RatePolicy,
} from './rate.js';

const T0 = new Date('2026-12-07T10:00:00.300Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
/** n devices with distinct buckets spread over 0..9999. */
const spread = (n: number) => Array.from({ length: n }, (_, i) => Math.floor((i * 10_000) / n));

/** Runs evaluation passes every `stepMs` until `untilMs`; the times each device was notified. */
function simulate(
  policy: RatePolicy,
  buckets: number[],
  options: { stepMs: number; untilMs: number; stepPercent?: number; succeeded?: () => number },
): { times: number[]; admission: Admission } {
  let admission = NO_ADMISSION;
  const times: number[] = [];
  for (let t = 0; t <= options.untilMs; t += options.stepMs) {
    const result = admit({
      policy,
      admission,
      buckets,
      stepPercent: options.stepPercent ?? 100,
      succeeded: options.succeeded?.() ?? 0,
      now: at(t),
    });
    for (let i = 0; i < result.added; i += 1) times.push(t);
    admission = result.admission;
  }
  return { times, admission };
}

/** The most notifications inside any window of `windowMs`. */
function busiest(times: number[], windowMs: number): number {
  let most = 0;
  for (let i = 0; i < times.length; i += 1) {
    const inside = times.filter((t) => t >= times[i]! && t < times[i]! + windowMs).length;
    most = Math.max(most, inside);
  }
  return most;
}

describe('notification rate', () => {
  it('never notifies more than the limit in any minute, with frequent passes', () => {
    const { times } = simulate({ maxPerMinute: 5 }, spread(40), { stepMs: 100, untilMs: 200_000 });
    assert.ok(times.length >= 15, `${times.length} notified in 200 s`);
    assert.ok(busiest(times, 60_000) <= 5, `busiest minute: ${busiest(times, 60_000)}`);
  });

  it('spreads the budget over the minute instead of one burst', () => {
    // 30 a minute: one every 2 s, not 30 in the first second.
    const { times } = simulate({ maxPerMinute: 30 }, spread(10), { stepMs: 250, untilMs: 40_000 });
    assert.equal(times.length, 10);
    assert.ok(busiest(times, 1_000) <= 2, `busiest second: ${busiest(times, 1_000)}`);
    assert.ok(times.at(-1)! >= 17_000, `the 10th went at ${times.at(-1)} ms`);
    assert.ok(times.at(-1)! <= 21_000, `the 10th went at ${times.at(-1)} ms`);
  });

  it('keeps up with high rates in few passes', () => {
    const { times } = simulate({ maxPerMinute: 6000 }, spread(1000), {
      stepMs: 1000,
      untilMs: 11_000,
    });
    assert.equal(times.length, 1000, 'at 100/s, 1,000 devices in about 10 s');
    assert.ok(busiest(times, 1_000) <= 201, `busiest second: ${busiest(times, 1_000)}`);
  });

  it('ramps up by the factor after every K devices done, up to the maximum', () => {
    const policy: RatePolicy = {
      maxPerMinute: 50,
      ramp: { basePerMinute: 5, factor: 2, everySucceeded: 10 },
    };
    assert.equal(currentRate(policy, 0), 5);
    assert.equal(currentRate(policy, 9), 5);
    assert.equal(currentRate(policy, 10), 10);
    assert.equal(currentRate(policy, 25), 20);
    assert.equal(currentRate(policy, 30), 40);
    assert.equal(currentRate(policy, 40), 50, 'capped');
    assert.equal(currentRate(policy, 10_000), 50, 'no overflow');
    assert.equal(currentRate({ maxPerMinute: 7 }, 1000), 7, 'no ramp: the maximum');
  });

  it('goes faster as devices succeed (ramp driven by the devices done)', () => {
    const policy: RatePolicy = {
      maxPerMinute: 120,
      ramp: { basePerMinute: 6, factor: 4, everySucceeded: 2 },
    };
    const slow = simulate(policy, spread(60), { stepMs: 500, untilMs: 60_000 });
    // Every notified device succeeds at once: the ramp is fed from the notifications.
    let admission = NO_ADMISSION;
    let notified = 0;
    for (let t = 0; t <= 60_000; t += 500) {
      const r = admit({
        policy,
        admission,
        buckets: spread(60),
        stepPercent: 100,
        succeeded: notified,
        now: at(t),
      });
      admission = r.admission;
      notified = r.notified;
    }
    assert.ok(slow.times.length <= 7, `no successes: ${slow.times.length} at 6/min`);
    assert.ok(notified > 30, `successes ramp it up: ${notified} in a minute`);
  });

  it('admits devices sharing a bucket together, within the minute', () => {
    const buckets = [10, 20, 20, 20, 30, 40];
    const { times } = simulate({ maxPerMinute: 3 }, buckets, { stepMs: 500, untilMs: 200_000 });
    assert.equal(times.length, 6);
    assert.ok(busiest(times, 60_000) <= 3);
    // The three of bucket 20 went in one pass.
    const counts = new Map<number, number>();
    for (const t of times) counts.set(t, (counts.get(t) ?? 0) + 1);
    assert.ok([...counts.values()].includes(3), JSON.stringify([...counts]));
  });

  it('a tie bigger than the per-minute limit goes alone, in a minute of its own', () => {
    const { times } = simulate({ maxPerMinute: 2 }, [1, 5, 5, 5, 9], {
      stepMs: 500,
      untilMs: 200_000,
    });
    assert.equal(times.length, 5, 'nobody is left behind');
    const [first, tie, last] = [times[0]!, times[1]!, times[4]!];
    assert.deepEqual(times.slice(1, 4), [tie, tie, tie], 'the three of bucket 5 at once');
    assert.ok(tie - first >= 60_000, `the tie waits for an empty minute (${tie - first} ms)`);
    assert.ok(last - tie >= 60_000, `and keeps its minute (${last - tie} ms)`);
  });

  it('never passes the step: a canary step of 10 % admits only its cohort', () => {
    const buckets = spread(100); // 0, 100, 200, ...
    const { times, admission } = simulate({ maxPerMinute: 600 }, buckets, {
      stepMs: 1000,
      untilMs: 30_000,
      stepPercent: 10,
    });
    assert.equal(times.length, 10, 'buckets 0..900');
    assert.equal(admission.percent, 10, 'complete: the cohort is the step');
  });

  it('grows the threshold just past the last device notified', () => {
    const r = admit({
      policy: { maxPerMinute: 60 },
      admission: NO_ADMISSION,
      buckets: [700, 123, 4000],
      stepPercent: 100,
      succeeded: 0,
      now: T0,
    });
    assert.equal(r.added, 1, 'one a second at 60/min');
    assert.equal(r.admission.percent, 1.24, 'bucket 123 is below 124 (1.24 %)');
    assert.equal(r.inStep, 3);
  });

  it('checks the policy', () => {
    assert.equal(checkRatePolicy({ maxPerMinute: 10 }), null);
    assert.match(checkRatePolicy({ maxPerMinute: 0 })!, /at least 1/);
    assert.match(
      checkRatePolicy({
        maxPerMinute: 10,
        ramp: { basePerMinute: 20, factor: 2, everySucceeded: 1 },
      })!,
      /must not exceed/,
    );
    assert.match(
      checkRatePolicy({
        maxPerMinute: 10,
        ramp: { basePerMinute: 2, factor: 1, everySucceeded: 1 },
      })!,
      /more than 1/,
    );
  });
});
