import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  LATENCY_BUCKET_COUNT,
  LATENCY_BUCKET_UPPER_MS,
  LATENCY_HIST_ABSOLUTE_ERROR_MS,
  LATENCY_HIST_MAX_COUNT,
  LATENCY_HIST_MAX_MS,
  LATENCY_HIST_MIN_MS,
  LATENCY_HIST_OVERFLOW_BUCKET,
  LATENCY_HIST_RELATIVE_ERROR,
  histogramCount,
  histogramFromCounts,
  histogramOf,
  histogramPercentile,
  isLatencyHistogram,
  latencyBucket,
  latencyBucketBounds,
  latencyBucketValue,
  mergeHistograms,
  type LatencyHistogram,
} from './latency-histogram.js';
import { exactPercentile, normal, seededRandom as rng } from './testing/seeded-random.js';

/** The documented error bound, for a true percentile x (plus float slack). */
function assertWithinBound(estimate: number, x: number, what: string): void {
  if (x > LATENCY_HIST_MAX_MS) {
    assert.equal(estimate, LATENCY_HIST_MAX_MS, what);
    return;
  }
  const bound =
    x <= LATENCY_HIST_MIN_MS ? LATENCY_HIST_ABSOLUTE_ERROR_MS : x * LATENCY_HIST_RELATIVE_ERROR;
  assert.ok(
    Math.abs(estimate - x) <= bound * (1 + 1e-9),
    `${what}: estimate ${estimate} vs exact ${x} (bound ${bound})`,
  );
}

const SHAPES: Record<string, (random: () => number) => number> = {
  uniform: (r) => 1 + r() * 99,
  lognormal: (r) => Math.exp(Math.log(20) + 0.6 * normal(r)),
  bimodal: (r) => Math.max(0, r() < 0.8 ? 5 + 0.5 * normal(r) : 80 + 10 * normal(r)),
  'single value': () => 12.345,
  'sub-millisecond': (r) => 0.001 + r() * 0.9,
  'heavy tail': (r) => Math.exp(Math.log(3) + 2 * normal(r)),
  'past the top bucket': (r) => (r() < 0.3 ? 40 + r() * 10 : 70_000 + r() * 200_000),
};

const PERCENTILES = [0, 1, 25, 50, 90, 95, 99, 99.9, 100];

describe('latency histogram buckets', () => {
  it('are 0.05 ms * 1.1^i up to ~60.77 s, plus an overflow bucket', () => {
    assert.equal(LATENCY_BUCKET_COUNT, 149);
    assert.equal(LATENCY_HIST_OVERFLOW_BUCKET, 148);
    assert.equal(LATENCY_BUCKET_UPPER_MS.length, 148);
    assert.equal(LATENCY_BUCKET_UPPER_MS[0], 0.05);
    assert.ok(
      LATENCY_HIST_MAX_MS > 60_000 && LATENCY_HIST_MAX_MS < 61_000,
      `${LATENCY_HIST_MAX_MS}`,
    );
    for (let i = 1; i < LATENCY_BUCKET_UPPER_MS.length; i++) {
      const ratio = LATENCY_BUCKET_UPPER_MS[i]! / LATENCY_BUCKET_UPPER_MS[i - 1]!;
      assert.ok(Math.abs(ratio - 1.1) < 1e-12, `ratio ${ratio} at ${i}`);
    }
    assert.ok(Math.abs(LATENCY_HIST_RELATIVE_ERROR - 1 / 21) < 1e-12);
  });

  it('put a value exactly on a bound in the lower bucket', () => {
    assert.equal(latencyBucket(0), 0);
    assert.equal(latencyBucket(0.01), 0);
    LATENCY_BUCKET_UPPER_MS.forEach((upper, i) => {
      assert.equal(latencyBucket(upper), i);
      assert.equal(latencyBucket(upper * (1 + 1e-12)), i + 1);
    });
    assert.equal(latencyBucket(LATENCY_HIST_MAX_MS * 2), LATENCY_HIST_OVERFLOW_BUCKET);
    assert.equal(latencyBucket(Infinity), LATENCY_HIST_OVERFLOW_BUCKET);
  });

  it('agree with the documented formula ceil(log(ms / 0.05) / log(1.1))', () => {
    const random = rng(7);
    for (let n = 0; n < 10_000; n++) {
      const ms = LATENCY_HIST_MIN_MS * Math.exp(random() * Math.log(LATENCY_HIST_MAX_MS / 0.05));
      const formula = Math.ceil(Math.log(ms / 0.05) / Math.log(1.1));
      const bucket = latencyBucket(ms);
      // Only a value within rounding of a bound may land on the other side of it.
      if (bucket !== formula) {
        const bound = LATENCY_BUCKET_UPPER_MS[Math.min(bucket, formula)]!;
        assert.ok(Math.abs(ms / bound - 1) < 1e-12, `${ms}: ${bucket} vs ${formula}`);
      }
    }
  });

  it('reject a negative or NaN latency', () => {
    assert.throws(() => latencyBucket(-0.001), RangeError);
    assert.throws(() => latencyBucket(NaN), RangeError);
    assert.throws(() => histogramOf([1, -1]), RangeError);
    assert.throws(() => latencyBucketBounds(LATENCY_BUCKET_COUNT), RangeError);
    assert.throws(() => latencyBucketValue(-1), RangeError);
  });

  it("represent every latency of a bucket within the bound by the bucket's value", () => {
    for (let ms = 0.0001; ms < 100_000; ms *= 1.0137) {
      const index = latencyBucket(ms);
      const { lower, upper } = latencyBucketBounds(index);
      assert.ok(ms <= upper && (index === 0 ? ms >= lower : ms > lower), `${ms} in ${index}`);
      assertWithinBound(latencyBucketValue(index), ms, `${ms} ms`);
    }
  });
});

describe('histogramOf / mergeHistograms / histogramPercentile', () => {
  for (const [shape, draw] of Object.entries(SHAPES)) {
    it(`merged device histograms give the fleet percentiles within the bound: ${shape}`, () => {
      const random = rng(shape.length * 7919 + 13);
      const all: number[] = [];
      const perDevice: LatencyHistogram[] = [];
      for (let device = 0; device < 12; device++) {
        const n = 10 + Math.floor(random() * 990);
        const samples = Array.from({ length: n }, () => draw(random));
        all.push(...samples);
        perDevice.push(histogramOf(samples));
      }
      const merged = mergeHistograms(perDevice);
      assert.equal(histogramCount(merged), all.length);
      assert.deepEqual(merged, histogramOf(all));
      assert.ok(isLatencyHistogram(merged));
      const sorted = [...all].sort((a, b) => a - b);
      for (const p of PERCENTILES) {
        const estimate = histogramPercentile(merged, p);
        assert.ok(estimate !== null);
        assertWithinBound(estimate, exactPercentile(sorted, p), `${shape} p${p}`);
      }
    });
  }

  it('keep a 1000-sample window small on the wire', () => {
    const random = rng(3);
    const hist = histogramOf(Array.from({ length: 1000 }, () => SHAPES.lognormal(random)));
    assert.ok(JSON.stringify(hist).length < 400, JSON.stringify(hist));
    const full = histogramFromCounts(new Array(LATENCY_BUCKET_COUNT).fill(LATENCY_HIST_MAX_COUNT));
    assert.equal(full.length, LATENCY_BUCKET_COUNT);
    assert.ok(isLatencyHistogram(full));
    assert.ok(JSON.stringify(full).length < 3_000);
  });

  it('merge associatively and commutatively, into canonical form', () => {
    const random = rng(99);
    const hists = Array.from({ length: 5 }, (_, k) =>
      histogramOf(Array.from({ length: 50 + k * 40 }, () => SHAPES.bimodal(random))),
    );
    const [a, b, c, d, e] = hists;
    const reference = mergeHistograms(hists);
    assert.deepEqual(mergeHistograms([mergeHistograms([a, b]), c, d, e]), reference);
    assert.deepEqual(
      mergeHistograms([a, mergeHistograms([b, mergeHistograms([c, d])]), e]),
      reference,
    );
    assert.deepEqual(mergeHistograms([e, d, c, b, a]), reference);
    assert.deepEqual(mergeHistograms([a]), a);
    assert.deepEqual(mergeHistograms([a, []]), a);
    // Entries in any order, a repeated bucket and empty buckets are accepted and normalised.
    assert.deepEqual(
      mergeHistograms([
        [
          [40, 2],
          [3, 1],
          [40, 5],
          [7, 0],
        ],
      ]),
      [
        [3, 1],
        [40, 7],
      ],
    );
    assert.throws(() => mergeHistograms([[[LATENCY_BUCKET_COUNT, 1]]]), RangeError);
    assert.throws(() => mergeHistograms([[[1, -1]]]), RangeError);
    assert.throws(() => mergeHistograms([[[1, 0.5]]]), RangeError);
  });

  it('an empty histogram has no percentile (null); merging none gives []', () => {
    assert.deepEqual(histogramOf([]), []);
    assert.deepEqual(mergeHistograms([]), []);
    assert.equal(histogramCount([]), 0);
    assert.equal(histogramPercentile([], 50), null);
    assert.equal(histogramPercentile([[10, 0]], 95), null);
    assert.throws(() => histogramPercentile([[10, 1]], 101), RangeError);
    assert.throws(() => histogramPercentile([[10, 1]], -1), RangeError);
    assert.throws(() => histogramPercentile([[10, 1]], NaN), RangeError);
  });

  it('answers the nearest-rank bucket', () => {
    // 90 samples at ~1 ms, 10 at ~100 ms: p90 is the 90th sample, p91 the 91st.
    const hist = histogramOf([...new Array(90).fill(1), ...new Array(10).fill(100)]);
    assert.equal(histogramPercentile(hist, 90), latencyBucketValue(latencyBucket(1)));
    assert.equal(histogramPercentile(hist, 91), latencyBucketValue(latencyBucket(100)));
    assert.equal(histogramPercentile(hist, 0), latencyBucketValue(latencyBucket(1)));
  });
});

describe('isLatencyHistogram', () => {
  it('accepts sparse [bucket, count] pairs within the limits', () => {
    for (const ok of [
      [],
      [[0, 1]],
      [
        [148, 5],
        [0, 0],
        [148, 1],
      ],
      [[12, LATENCY_HIST_MAX_COUNT]],
    ]) {
      assert.ok(isLatencyHistogram(ok), JSON.stringify(ok));
    }
  });

  it('rejects anything else', () => {
    const tooMany = Array.from({ length: LATENCY_BUCKET_COUNT + 1 }, (_, i) => [i % 10, 1]);
    for (const bad of [
      null,
      {},
      { b: [1], c: [1] },
      [[LATENCY_BUCKET_COUNT, 1]],
      [[-1, 1]],
      [[1.5, 1]],
      [[1, -1]],
      [[1, 0.5]],
      [[1, LATENCY_HIST_MAX_COUNT + 1]],
      [[1]],
      [[1, 2, 3]],
      [['1', 2]],
      tooMany,
    ]) {
      assert.equal(isLatencyHistogram(bad), false, JSON.stringify(bad).slice(0, 80));
    }
  });
});
