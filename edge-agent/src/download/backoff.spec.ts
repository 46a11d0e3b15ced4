import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fullJitterDelay, parseRetryAfter, sleep } from './backoff.js';

describe('fullJitterDelay', () => {
  it('draws from [0, min * 2^retry)', () => {
    // retry 3 with min 100: the window is 100 * 8 = 800 ms
    assert.equal(
      fullJitterDelay(3, 100, 10_000, () => 0),
      0,
    );
    assert.equal(
      fullJitterDelay(3, 100, 10_000, () => 0.5),
      400,
    );
    assert.equal(
      fullJitterDelay(3, 100, 10_000, () => 0.999),
      799,
    );
    assert.equal(
      fullJitterDelay(0, 100, 10_000, () => 0.999),
      99,
    );
  });

  it('caps the window at max', () => {
    // 100 * 2^20 ms is far beyond the 5 s cap
    assert.equal(
      fullJitterDelay(20, 100, 5000, () => 0.5),
      2500,
    );
  });

  it('spreads delays over the whole window', () => {
    const delays = Array.from({ length: 2000 }, () => fullJitterDelay(4, 10, 1000));
    // window 10 * 16 = 160 ms: some in each quarter
    for (let quarter = 0; quarter < 4; quarter++) {
      assert.ok(
        delays.some((d) => d >= quarter * 40 && d < (quarter + 1) * 40),
        `quarter ${quarter}`,
      );
    }
    assert.ok(delays.every((d) => d >= 0 && d < 160));
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });
});

describe('sleep', () => {
  it('rejects with the reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const waiting = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await assert.rejects(waiting, /stop/);
  });
});
