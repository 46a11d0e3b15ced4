/**
 * The inference-latency histogram a device may add to each telemetry window (`latency_hist`), so the
 * hub can merge a fleet's windows and take real percentiles of all their inferences (a mean of the
 * devices' own p95s is not a p95). One fixed bucket layout, shared by every agent and the hub:
 *
 *   bucket 0                 [0, 0.05] ms
 *   bucket i (1 <= i <= 147) (0.05 * 1.1^(i-1), 0.05 * 1.1^i] ms
 *   bucket 148 (overflow)    > 0.05 * 1.1^147 ms (about 60.77 s)
 *
 * i.e. for 0.05 < ms <= 60770.8: i = ceil(log(ms / 0.05) / log(1.1)); ms <= 0.05 gives 0, larger
 * values 148. The bounds are the doubles `0.05 * 1.1 ** i` (see LATENCY_BUCKET_UPPER_MS); a value
 * exactly on a bound belongs to the lower bucket.
 *
 * On the wire a histogram is a sparse list of `[bucket index, count]` pairs, e.g.
 * `[[52, 3], [53, 41], [54, 7]]`: a 1000-sample window usually touches 10 to 40 buckets, a few
 * hundred bytes of JSON at most; 149 pairs (every bucket) is the upper limit the schema allows.
 * Pairs come in ascending bucket order from this module, but any order is valid and a repeated
 * bucket counts as the sum of its entries, so every schema-valid histogram means something.
 *
 * Error bound: a percentile is answered with the representative value of the bucket that holds
 * the exact nearest-rank percentile of the raw samples (the same definition as the agent's
 * `latency_ms`), so whatever the data and however many histograms were merged, for a true
 * percentile x:
 *   - 0.05 < x <= 60770.8 ms: |answer - x| <= x / 21 (4.76 %; the representative is the harmonic
 *     mean of the bucket's bounds, which minimises the worst relative error: (1.1 - 1) / (1.1 + 1));
 *   - x <= 0.05 ms: the answer is 0.025 ms, |answer - x| <= 0.025 ms;
 *   - x beyond the top bound: the answer is the top bound (LATENCY_HIST_MAX_MS), a lower bound of x.
 *
 * Changing the layout would break every stored and in-flight histogram: a different layout needs a
 * new message field, not new constants here.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/** Upper bound of bucket 0, in ms (smaller latencies all fall in bucket 0). */
export const LATENCY_HIST_MIN_MS = 0.05;
/** Ratio between consecutive bucket bounds. */
export const LATENCY_HIST_GROWTH = 1.1;
/** Buckets with a finite upper bound (indexes 0 .. 147). */
const FINITE_BUCKETS = 148;
/** Index of the overflow bucket (latencies above LATENCY_HIST_MAX_MS). */
export const LATENCY_HIST_OVERFLOW_BUCKET = FINITE_BUCKETS;
/** Number of buckets, overflow included: valid indexes are 0 .. LATENCY_BUCKET_COUNT - 1. */
export const LATENCY_BUCKET_COUNT = FINITE_BUCKETS + 1;
/** Largest count one histogram entry may carry (the schema's limit). */
export const LATENCY_HIST_MAX_COUNT = 1_000_000_000;

/** Upper bound (inclusive) of each finite bucket, in ms: `0.05 * 1.1 ** i`. */
export const LATENCY_BUCKET_UPPER_MS: readonly number[] = Object.freeze(
  Array.from({ length: FINITE_BUCKETS }, (_, i) => LATENCY_HIST_MIN_MS * LATENCY_HIST_GROWTH ** i),
);
/** Top finite bound (~60 770.8 ms): what a percentile in the overflow bucket answers. */
export const LATENCY_HIST_MAX_MS = LATENCY_BUCKET_UPPER_MS[FINITE_BUCKETS - 1]!;
/** Worst relative error of a percentile between 0.05 ms and LATENCY_HIST_MAX_MS: 1/21. */
export const LATENCY_HIST_RELATIVE_ERROR = (LATENCY_HIST_GROWTH - 1) / (LATENCY_HIST_GROWTH + 1);
/** Worst absolute error of a percentile at or below 0.05 ms. */
export const LATENCY_HIST_ABSOLUTE_ERROR_MS = LATENCY_HIST_MIN_MS / 2;

export const LatencyHistogramSchema = Type.Array(
  Type.Tuple([
    Type.Integer({
      minimum: 0,
      maximum: LATENCY_BUCKET_COUNT - 1,
      description: 'Bucket index',
    }),
    Type.Integer({
      minimum: 0,
      maximum: LATENCY_HIST_MAX_COUNT,
      description: 'Inferences in the bucket',
    }),
  ]),
  {
    maxItems: LATENCY_BUCKET_COUNT,
    description:
      'Sparse histogram of the inference latencies, [bucket, count] pairs. Bucket 0 is [0, 0.05] ms, ' +
      'bucket i in 1..147 is (0.05*1.1^(i-1), 0.05*1.1^i] ms, bucket 148 is above 0.05*1.1^147 ms ' +
      '(~60.77 s). Any order; a repeated bucket adds up.',
  },
);
/** `[bucketIndex, count]` pairs; see the module comment. */
export type LatencyHistogram = Static<typeof LatencyHistogramSchema>;

const HISTOGRAM_CHECK = TypeCompiler.Compile(LatencyHistogramSchema);

/** Whether a decoded value is a valid histogram (what the telemetry schema accepts). */
export function isLatencyHistogram(value: unknown): value is LatencyHistogram {
  return HISTOGRAM_CHECK.Check(value);
}

/** Bucket index of a latency in ms. Throws a RangeError for a negative or NaN latency. */
export function latencyBucket(ms: number): number {
  if (!(ms >= 0)) throw new RangeError(`latency must be a number >= 0 (got ${ms})`);
  const bounds = LATENCY_BUCKET_UPPER_MS;
  if (ms > bounds[FINITE_BUCKETS - 1]!) return LATENCY_HIST_OVERFLOW_BUCKET;
  // Smallest i with ms <= bounds[i]: a binary search, exact on the bounds (no log rounding).
  let lo = 0;
  let hi = FINITE_BUCKETS - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ms <= bounds[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= LATENCY_BUCKET_COUNT) {
    throw new RangeError(`bucket index must be an integer in 0..${LATENCY_BUCKET_COUNT - 1}`);
  }
}

/** The latencies a bucket holds: (lower, upper] in ms (bucket 0: [0, 0.05]; overflow: upper Infinity). */
export function latencyBucketBounds(index: number): { lower: number; upper: number } {
  checkIndex(index);
  return {
    lower: index === 0 ? 0 : LATENCY_BUCKET_UPPER_MS[index - 1]!,
    upper: index === LATENCY_HIST_OVERFLOW_BUCKET ? Infinity : LATENCY_BUCKET_UPPER_MS[index]!,
  };
}

/**
 * The value a percentile in this bucket answers: the harmonic mean of its bounds (worst relative
 * error 1/21 for any latency in the bucket); 0.025 ms for bucket 0; the top bound for the overflow.
 */
export function latencyBucketValue(index: number): number {
  const { lower, upper } = latencyBucketBounds(index);
  if (index === 0) return LATENCY_HIST_ABSOLUTE_ERROR_MS;
  if (upper === Infinity) return lower;
  return (2 * lower * upper) / (lower + upper);
}

/**
 * A sparse histogram of per-bucket counts (`counts[i]` = samples in bucket i, a dense array of
 * LATENCY_BUCKET_COUNT entries at most): ascending bucket order, empty buckets left out.
 */
export function histogramFromCounts(counts: ArrayLike<number>): LatencyHistogram {
  if (counts.length > LATENCY_BUCKET_COUNT) {
    throw new RangeError(`at most ${LATENCY_BUCKET_COUNT} bucket counts`);
  }
  const out: LatencyHistogram = [];
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i]!;
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`bucket ${i}: count must be a non-negative integer (got ${count})`);
    }
    if (count > 0) out.push([i, count]);
  }
  return out;
}

/** The histogram of latencies in ms. Throws a RangeError for a negative or NaN latency. */
export function histogramOf(samplesMs: Iterable<number>): LatencyHistogram {
  const counts = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const ms of samplesMs) counts[latencyBucket(ms)] += 1;
  return histogramFromCounts(counts);
}

function addInto(counts: number[], hist: LatencyHistogram): void {
  for (const [index, count] of hist) {
    checkIndex(index);
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`bucket ${index}: count must be a non-negative integer (got ${count})`);
    }
    counts[index] += count;
  }
}

/**
 * One histogram holding every sample of the given ones (counts added per bucket), in canonical
 * form: ascending buckets, no empty or repeated bucket. Associative and commutative; merging none
 * gives `[]`. Throws a RangeError on an index out of range or a negative/fractional count (never
 * the case for a histogram that passed the telemetry schema).
 */
export function mergeHistograms(hists: Iterable<LatencyHistogram>): LatencyHistogram {
  const counts = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const hist of hists) addInto(counts, hist);
  return histogramFromCounts(counts);
}

/** Number of samples in a histogram. */
export function histogramCount(hist: LatencyHistogram): number {
  let total = 0;
  for (const [, count] of hist) total += count;
  return total;
}

/**
 * The p-th percentile (p in 0..100) of the latencies in a histogram, in ms, or null when the
 * histogram holds no sample. Nearest rank, as the agent's `latency_ms`: the answer is the
 * representative value (latencyBucketValue) of the bucket holding the ceil(p/100 * n)-th smallest
 * sample, so it is within the bound stated in the module comment of the exact percentile
 * (x / 21 above 0.05 ms, 0.025 ms below; the top bound for samples past ~60.77 s).
 */
export function histogramPercentile(hist: LatencyHistogram, p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in 0..100 (got ${p})`);
  const counts = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  addInto(counts, hist);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.min(total, Math.max(1, Math.ceil((p / 100) * total)));
  let seen = 0;
  for (let i = 0; i < LATENCY_BUCKET_COUNT; i++) {
    seen += counts[i]!;
    if (seen >= rank) return latencyBucketValue(i);
  }
  // Unreachable: rank <= total.
  return latencyBucketValue(LATENCY_HIST_OVERFLOW_BUCKET);
}
