import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DownloadProgress } from './downloader.js';
import { ProgressThrottle } from './progress.js';

function throttle(total: number) {
  let now = 0;
  const seen: DownloadProgress[] = [];
  const t = new ProgressThrottle(
    total,
    (p) => seen.push(p),
    250,
    0.01,
    () => now,
  );
  return { report: (bytes: number) => t.report(bytes), tick: (ms: number) => (now += ms), seen };
}

describe('ProgressThrottle', () => {
  it('reports at most once per 1 % on a fast transfer, and always the last byte', () => {
    const { report, seen } = throttle(1_000_000);
    for (let bytes = 1000; bytes <= 1_000_000; bytes += 1000) report(bytes);
    // 1000 chunks of 0.1 %: the first (1000), every 10th after it (11000 ... 991000), the last
    assert.equal(seen.length, 101);
    assert.deepEqual(seen.at(-1), { bytes: 1_000_000, total: 1_000_000 });
  });

  it('reports every 250 ms on a slow transfer that stays under 1 %', () => {
    const { report, tick, seen } = throttle(1_000_000_000);
    for (let i = 1; i <= 100; i++) {
      tick(50);
      report(i * 1000);
    }
    // 5 s of 50 ms chunks: the first, then one per 250 ms
    assert.equal(seen.length, 1 + 19);
  });

  it('reports a restart from zero at once', () => {
    const { report, seen } = throttle(1000);
    report(500);
    report(10);
    assert.deepEqual(
      seen.map((p) => p.bytes),
      [500, 10],
    );
  });
});
