/**
 * Latency histograms (`latency_hist`, see @sentinel/broker's latency-histogram) as the telemetry
 * stores keep them with each window, and read back. Pure.
 *
 * - InfluxDB: a string field `latency_hist` holding the compact JSON of the pairs, e.g.
 *   `[[52,3],[53,41],[54,7]]` (line protocol quotes and escapes it as any string field).
 * - The SQL table: a nullable jsonb column `latency_hist` holding the same array.
 * - The in-memory cache: the pairs packed flat in a Float64Array (PackedHistogram), some 5 times
 *   smaller than the parsed arrays (which take ~70 bytes a pair).
 *
 * What comes back from a store is checked again (the schema's rules): a value that is not a valid
 * histogram (a hand-written point, say) is left out rather than failing the whole aggregate.
 */
import {
  isLatencyHistogram,
  LATENCY_BUCKET_COUNT,
  mergeHistograms,
  type LatencyHistogram,
} from '@sentinel/broker';

/** `[bucket, count, bucket, count, ...]`: a histogram's pairs as they came, flat. */
export type PackedHistogram = Float64Array;

/** The compact JSON of a histogram: what InfluxDB's string field holds. */
export function encodeHistogram(hist: LatencyHistogram): string {
  return JSON.stringify(hist);
}

/** A stored histogram (JSON text, or a value already decoded, as jsonb is) if valid, else null. */
export function decodeHistogram(value: unknown): LatencyHistogram | null {
  let decoded = value;
  if (typeof value === 'string') {
    try {
      decoded = JSON.parse(value);
    } catch {
      return null;
    }
  }
  return isLatencyHistogram(decoded) ? decoded : null;
}

/**
 * The valid histograms among stored values merged into one (canonical form), or null when none is
 * valid (no window had one): a device's `latency_hist` in its DeviceAggregate.
 */
export function mergeStoredHistograms(values: Iterable<unknown>): LatencyHistogram | null {
  const hists: LatencyHistogram[] = [];
  for (const value of values) {
    const hist = decodeHistogram(value);
    if (hist !== null) hists.push(hist);
  }
  return hists.length > 0 ? mergeHistograms(hists) : null;
}

/** The pairs of a histogram, flat (the in-memory cache's form): no merge, the order kept. */
export function packHistogram(hist: LatencyHistogram): PackedHistogram {
  const packed = new Float64Array(hist.length * 2);
  for (let i = 0; i < hist.length; i++) {
    packed[2 * i] = hist[i]![0];
    packed[2 * i + 1] = hist[i]![1];
  }
  return packed;
}

/**
 * Adds a histogram's counts (pairs or packed) into dense per-bucket counts (LATENCY_BUCKET_COUNT
 * entries). Throws a RangeError on a bucket out of range or a negative/fractional count, as
 * mergeHistograms does (never the case for a histogram that passed the telemetry schema).
 */
export function addHistogram(counts: number[], hist: LatencyHistogram | PackedHistogram): void {
  const add = (bucket: number, count: number) => {
    if (!Number.isInteger(bucket) || bucket < 0 || bucket >= LATENCY_BUCKET_COUNT) {
      throw new RangeError(`bucket index must be an integer in 0..${LATENCY_BUCKET_COUNT - 1}`);
    }
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new RangeError(`bucket ${bucket}: count must be a non-negative integer (got ${count})`);
    }
    counts[bucket] += count;
  };
  if (hist instanceof Float64Array) {
    for (let i = 0; i + 1 < hist.length; i += 2) add(hist[i]!, hist[i + 1]!);
  } else {
    for (const [bucket, count] of hist) add(bucket, count);
  }
}
