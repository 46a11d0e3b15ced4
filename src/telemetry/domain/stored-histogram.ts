/**
 * Latency histograms (`latency_hist`, see @sentinel/broker's latency-histogram) as the telemetry
 * stores keep them with each window, and read back. Pure.
 *
 * - InfluxDB: a string field `latency_hist` holding the compact JSON of the pairs, e.g.
 *   `[[52,3],[53,41],[54,7]]` (line protocol quotes and escapes it as any string field).
 * - The SQL table: a nullable jsonb column `latency_hist` holding the same array.
 * - The in-memory cache: the point's own array.
 *
 * What comes back from a store is checked again (the schema's rules): a value that is not a valid
 * histogram (a hand-written point, say) is left out rather than failing the whole aggregate.
 */
import { isLatencyHistogram, mergeHistograms, type LatencyHistogram } from '@sentinel/broker';

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
