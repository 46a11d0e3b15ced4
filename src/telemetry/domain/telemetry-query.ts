/**
 * The telemetry query over time (`GET /api/v1/telemetry`): its time range and bucket size read from
 * the query string, and the stores' bucket rows folded into sorted series. Pure.
 */

export type SeriesBy = 'model_version' | 'device';
export const SERIES_BY: readonly SeriesBy[] = ['model_version', 'device'];

/** The default range when `from` is not given: the hour before `to`. */
export const DEFAULT_RANGE_MS = 3_600_000;
/** The longest range a query may span. */
export const MAX_RANGE_MS = 31 * 86_400_000;
/** Default steps, smallest first: the first one giving at most DEFAULT_MAX_BUCKETS buckets is used. */
export const DEFAULT_STEPS_S: readonly number[] = [10, 30, 60, 300, 900, 3600, 21_600, 86_400];
export const DEFAULT_MAX_BUCKETS = 360;
/** A step giving more buckets than this is refused. */
export const MAX_BUCKETS = 2000;

/** The range, bucket size and grouping of a query (filters aside). */
export interface TelemetryRange {
  from: Date;
  to: Date;
  stepS: number;
  by: SeriesBy;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
// A date, or a date and time with a zone (Z or an offset): a time without one would be read in the
// hub's own time zone.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/** An ISO 8601 time (a date alone is its midnight UTC), or null when the text is not one. */
export function parseTime(text: string): Date | null {
  if (!ISO_DATE.test(text) && !ISO_DATE_TIME.test(text)) return null;
  // Date.parse takes at most milliseconds: cut finer fractions.
  const ms = Date.parse(text.replace(/(\.\d{3})\d+/, '$1'));
  if (!Number.isFinite(ms)) return null;
  // Some engines roll 2026-02-30 over to March: refuse a day the month does not have.
  const [y, mo, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return null;
  return new Date(ms);
}

/** A step: whole seconds (`30`) or a number with a unit (`30s`, `5m`, `1h`, `1d`); null if neither. */
export function parseStep(text: string): number | null {
  const match = /^(\d{1,7})([smhd]?)$/.exec(text);
  if (!match) return null;
  const seconds = Number(match[1]) * UNIT_S[match[2] || 's']!;
  return seconds >= 1 ? seconds : null;
}

/**
 * The buckets a range counts as: its length over the step, rounded up. (Buckets start at multiples
 * of the step since the Unix epoch, so a range that does not start on one touches one more.)
 */
export function bucketCount(from: Date, to: Date, stepS: number): number {
  return Math.ceil((to.getTime() - from.getTime()) / (stepS * 1000));
}

/** The smallest default step giving at most DEFAULT_MAX_BUCKETS buckets (the largest otherwise). */
export function defaultStep(from: Date, to: Date): number {
  return (
    DEFAULT_STEPS_S.find((s) => bucketCount(from, to, s) <= DEFAULT_MAX_BUCKETS) ??
    DEFAULT_STEPS_S[DEFAULT_STEPS_S.length - 1]!
  );
}

/**
 * Reads `from`, `to`, `step` and `by` (texts as they came in the query string; undefined when
 * absent). Defaults: `to` now, `from` an hour before `to`, `step` per defaultStep, `by`
 * model_version. The message of a refusal names the parameter.
 */
export function parseTelemetryRange(
  input: { from?: string; to?: string; step?: string; by?: string },
  now: Date,
): Parsed<TelemetryRange> {
  const fail = (message: string): Parsed<TelemetryRange> => ({ ok: false, message });
  const times: { from?: Date; to?: Date } = {};
  for (const name of ['from', 'to'] as const) {
    const text = input[name];
    if (text === undefined) continue;
    const time = parseTime(text);
    if (!time) {
      return fail(
        `${name} must be an ISO 8601 time with a zone, e.g. 2026-12-07T10:00:00Z (got ${JSON.stringify(text)})`,
      );
    }
    times[name] = time;
  }
  const to = times.to ?? now;
  const from = times.from ?? new Date(to.getTime() - DEFAULT_RANGE_MS);
  if (from.getTime() >= to.getTime()) {
    return fail(`from (${from.toISOString()}) must be before to (${to.toISOString()})`);
  }
  if (to.getTime() - from.getTime() > MAX_RANGE_MS) {
    return fail('from and to may be at most 31 days apart');
  }
  if (input.by !== undefined && !SERIES_BY.includes(input.by as SeriesBy)) {
    return fail(`by must be one of ${SERIES_BY.join(', ')} (got ${JSON.stringify(input.by)})`);
  }
  const by = (input.by as SeriesBy | undefined) ?? 'model_version';
  if (input.step === undefined)
    return { ok: true, value: { from, to, stepS: defaultStep(from, to), by } };
  const stepS = parseStep(input.step);
  if (stepS === null) {
    return fail(
      `step must be a whole number of seconds (30) or one with a unit (30s, 5m, 1h, 1d) (got ${JSON.stringify(input.step)})`,
    );
  }
  const buckets = bucketCount(from, to, stepS);
  if (buckets > MAX_BUCKETS) {
    return fail(
      `step ${stepS} s gives ${buckets} buckets over this range; at most ${MAX_BUCKETS} (use a larger step or a shorter range)`,
    );
  }
  return { ok: true, value: { from, to, stepS, by } };
}

/** One bucket's figures as a store computes them (means, sums, count), before folding. */
export interface BucketRow {
  model_version: string;
  /** null when the query groups by model version only. */
  device: string | null;
  /** The bucket's start, epoch milliseconds. */
  time: number;
  windows: number;
  frames: number;
  fps: number;
  latency_p50: number;
  latency_p95: number;
  memory_mb: number;
  errors: number;
  map: number | null;
}

export interface SeriesPoint {
  /** The bucket's start. */
  time: Date;
  windows: number;
  frames: number;
  fps: number;
  latency_p50: number;
  latency_p95: number;
  memory_mb: number;
  errors: number;
  map: number | null;
}

export interface Series {
  device: string | null;
  model_version: string;
  points: SeriesPoint[];
}

/** Code unit order, the same in every store and locale. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Bucket rows folded into series: one per model version (and device), sorted by model version then
 * device, each with its points by time. Rows without windows (an empty bucket) are left out.
 */
export function seriesOf(rows: readonly BucketRow[]): Series[] {
  const series = new Map<string, Series>();
  for (const row of rows) {
    if (row.windows <= 0) continue;
    const key = `${row.model_version}\u0000${row.device ?? ''}`;
    let s = series.get(key);
    if (!s)
      series.set(key, (s = { device: row.device, model_version: row.model_version, points: [] }));
    s.points.push({
      time: new Date(row.time),
      windows: row.windows,
      frames: row.frames,
      fps: row.fps,
      latency_p50: row.latency_p50,
      latency_p95: row.latency_p95,
      memory_mb: row.memory_mb,
      errors: row.errors,
      map: row.map,
    });
  }
  const sorted = [...series.values()].sort(
    (a, b) => compare(a.model_version, b.model_version) || compare(a.device ?? '', b.device ?? ''),
  );
  for (const s of sorted) s.points.sort((a, b) => a.time.getTime() - b.time.getTime());
  return sorted;
}
