import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { refill, TokenBuckets } from './token-bucket.js';

describe('refill', () => {
  const limit = { ratePerSecond: 2, burst: 10 };

  it('adds rate x elapsed seconds, capped at the burst', () => {
    assert.equal(refill(0, 1000, limit), 2);
    assert.equal(refill(3, 500, limit), 4);
    assert.equal(refill(9, 10_000, limit), 10);
  });

  it('refills nothing when the clock went backwards', () => {
    assert.equal(refill(3, -5000, limit), 3);
  });
});

describe('TokenBuckets', () => {
  it('lets a burst through, then the sustained rate, per key', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 3 });
    const taken = Array.from({ length: 5 }, () => buckets.take('cam-1', 0));
    assert.deepEqual(taken, [true, true, true, false, false]);
    assert.equal(buckets.take('cam-2', 0), true, 'another key has its own bucket');
    assert.equal(buckets.take('cam-1', 999), false);
    assert.equal(buckets.take('cam-1', 1000), true);
    assert.equal(buckets.take('cam-1', 1000), false);
  });

  it('never lets more through than burst + rate x elapsed (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 1000, noNaN: true }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 300 }),
        (ratePerSecond, burst, gaps) => {
          const buckets = new TokenBuckets({ ratePerSecond, burst });
          let now = 0;
          let passed = 0;
          for (const gap of gaps) {
            now += gap;
            if (buckets.take('k', now)) passed += 1;
          }
          return passed <= burst + (now / 1000) * ratePerSecond + 1e-9;
        },
      ),
      { seed: 42 },
    );
  });

  it('keeps at most maxKeys buckets; a forgotten key starts full again', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 1, burst: 1 }, 2);
    buckets.take('a', 0);
    buckets.take('b', 0);
    buckets.take('c', 0);
    assert.equal(buckets.size, 2);
    assert.equal(buckets.take('a', 0), true, 'a was evicted, so it is full again');
    assert.equal(buckets.take('c', 0), false);
    buckets.forget('c');
    assert.equal(buckets.take('c', 0), true);
  });

  it('refuses a limit that would let nothing through', () => {
    assert.throws(() => new TokenBuckets({ ratePerSecond: 0, burst: 5 }), RangeError);
    assert.throws(() => new TokenBuckets({ ratePerSecond: 1, burst: 0 }), RangeError);
  });
});
