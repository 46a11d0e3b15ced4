import type {
  DeploymentEventPoint,
  ShadowPoint,
  TelemetryPoint,
  TelemetryTags,
} from '../telemetry-store.js';
import { encodeHistogram } from './stored-histogram.js';

/*
 * InfluxDB line protocol for the hub's two measurements, written directly instead of through the
 * `influx` client's generic point objects (several times cheaper per point).
 *
 *   <measurement>[,<tag>=<value>...] <field>=<value>[,<field>=<value>...] <timestamp>
 *
 * Escaping, from the line protocol reference ("Special characters"):
 * - measurement: comma and space;
 * - tag keys, tag values and field keys: comma, equals sign and space;
 * - string field values: double quote and backslash (inside the double quotes).
 * Other characters are literal, a backslash included when the next character is not one of those.
 *
 * Tag values follow InfluxDB 1.x's parser (the engine of the v1 API and of the tests): a backslash
 * is not an escape of its own there, so `a\,b` (a backslash, then an escaped comma) reads back as
 * `a\,b`, but a tag value cannot end with a backslash (the next separator would read as escaped
 * and the line fails to parse). InfluxDB 3 also reads `\\` as one backslash, so a tag value with a
 * backslash right before a backslash, comma, equals sign or space is read differently there; the
 * hub's tag values are identifiers and versions, where that does not occur in practice.
 *
 * What line protocol cannot carry is made writable rather than refused, since one bad value would
 * otherwise fail the whole batch (HTTP 400) it travels in:
 * - line breaks (CR, LF) in a tag value become spaces;
 * - trailing backslashes of a tag value are dropped;
 * - a tag whose value is empty (after the above) is left out, as InfluxDB asks;
 * - a non-finite float (NaN, Infinity) or an integer beyond +-2^53 is left out of the field set
 *   (InfluxDB has no such values); the other fields of the point are still written. Every line
 *   keeps at least one field: `device_id`.
 * - a point whose time is not a valid date is skipped (it cannot come from a validated message).
 *
 * The latency histogram, when a point has one, is the string field `latency_hist`: its compact JSON
 * (`[[52,3],[53,41]]`, see stored-histogram), quoted and escaped like any string field (the commas
 * need no escape inside the quotes; JSON of integer pairs has no quote or backslash to escape).
 */

/** Timestamps are written in milliseconds: the write must say `precision=ms`. */
export const LINE_PRECISION = 'ms';

const TELEMETRY_MEASUREMENT = 'telemetry';
const EVENTS_MEASUREMENT = 'deployment_events';

/**
 * The `telemetry` tags, in the order they are written: sorted by key as InfluxDB recommends (as
 * Go's bytes.Compare sorts; the keys are ASCII, so a plain sort agrees).
 */
export const TELEMETRY_TAG_KEYS = (
  [
    'device',
    'group',
    'environment',
    'deployment',
    'model_id',
    'model_version',
    'slot',
  ] as const satisfies readonly (keyof TelemetryTags)[]
)
  .slice()
  .sort();

/** Bytes first set aside per telemetry line (they take about 260 with uuid tags). */
const LINE_BYTES_GUESS = 320;

/** Default bound of the tag set cache (entries, one per device). */
export const DEFAULT_TAG_CACHE_DEVICES = 100_000;

const TAG_SPECIAL = /[,= \\\r\n]/;
const TAG_ESCAPES = /[,= ]/g;
const LINE_BREAKS = /[\r\n]/g;
const TRAILING_BACKSLASHES = /\\+$/;
const MEASUREMENT_ESCAPES = /[, ]/g;
const STRING_ESCAPES = /["\\]/g;

/** A tag key, tag value or field key; '' when nothing writable is left (leave the tag out). */
export function escapeTag(value: string): string {
  if (!TAG_SPECIAL.test(value)) return value;
  return value
    .replace(LINE_BREAKS, ' ')
    .replace(TRAILING_BACKSLASHES, '')
    .replace(TAG_ESCAPES, '\\$&');
}

export function escapeMeasurement(name: string): string {
  return name.replace(MEASUREMENT_ESCAPES, '\\$&');
}

/** A string field value, quotes included. */
export function quoteString(value: string): string {
  return `"${value.replace(STRING_ESCAPES, '\\$&')}"`;
}

function tagPair(key: string, value: string): string {
  const escaped = escapeTag(value);
  return escaped === '' ? '' : `,${key}=${escaped}`;
}

function float(key: string, value: number): string {
  return Number.isFinite(value) ? `,${key}=${value}` : '';
}

function integer(key: string, value: number): string {
  if (Number.isSafeInteger(value)) return `,${key}=${value}i`;
  // Like the `influx` client, a fractional value is floored; beyond 2^53 it is not an integer.
  const floored = Math.floor(value);
  return Number.isSafeInteger(floored) ? `,${key}=${floored}i` : '';
}

/**
 * A shadow block as `shadow_*` fields of its window's point (sparse: only points that have one):
 * the candidate's model id, version and comparison as strings, the counts as integers, latencies
 * and agreement as floats when the block has them.
 */
function shadowFields(shadow: ShadowPoint): string {
  const optional = (key: string, value: number | undefined) =>
    value === undefined ? '' : float(key, value);
  return (
    `,shadow_model_id=${quoteString(shadow.model_id)}` +
    `,shadow_model_version=${quoteString(shadow.model_version)}` +
    `,shadow_comparison=${quoteString(shadow.comparison)}` +
    integer('shadow_samples', shadow.samples) +
    integer('shadow_dropped', shadow.dropped) +
    integer('shadow_errors', shadow.errors) +
    optional('shadow_latency_p50', shadow.latency_p50) +
    optional('shadow_latency_p95', shadow.latency_p95) +
    optional('shadow_active_latency_p50', shadow.active_latency_p50) +
    optional('shadow_active_latency_p95', shadow.active_latency_p95) +
    optional('shadow_agreement', shadow.agreement)
  );
}

/** One device's latest tag set and the start of its lines, up to the first numeric field. */
interface CachedHead {
  group: string;
  environment: string;
  deployment: string;
  model_id: string;
  model_version: string;
  slot: string;
  head: string;
}

/**
 * Encodes telemetry points for `POST /write?precision=ms`. Each device sends the same tags window
 * after window, so the escaped tag set (and the `device_id` field that repeats the device tag) is
 * built once per device and reused while its tags stay the same; the cache holds one entry per
 * device and is cleared when it outgrows `maxDevices`, so a churning fleet cannot grow it without
 * bound. Not safe to share between threads, which JavaScript does not do anyway.
 */
export class TelemetryLineEncoder {
  private readonly heads = new Map<string, CachedHead>();
  private readonly measurement = escapeMeasurement(TELEMETRY_MEASUREMENT);

  constructor(private readonly maxDevices = DEFAULT_TAG_CACHE_DEVICES) {}

  /** Tag sets held (for tests). */
  get cachedDevices(): number {
    return this.heads.size;
  }

  /**
   * The points as line protocol, one `\n`-terminated line each, as UTF-8 bytes ready to send.
   * Each line goes into the buffer as it is made: one long string of 5000 lines would be a rope
   * of some 60,000 pieces that costs more to flatten and encode than building it did.
   */
  encode(points: readonly TelemetryPoint[]): Buffer {
    let out = Buffer.allocUnsafe(points.length * LINE_BYTES_GUESS);
    let length = 0;
    for (const p of points) {
      const line = this.line(p);
      // A UTF-16 code unit takes at most 3 bytes in UTF-8.
      const room = length + line.length * 3;
      if (room > out.length) {
        const bigger = Buffer.allocUnsafe(Math.max(out.length * 2, room));
        out.copy(bigger, 0, 0, length);
        out = bigger;
      }
      length += out.write(line, length, 'utf8');
    }
    return out.subarray(0, length);
  }

  private line(p: TelemetryPoint): string {
    const ms = p.time.getTime();
    if (!Number.isFinite(ms)) return '';
    return (
      this.head(p.tags) +
      integer('frames', p.frames) +
      float('fps', p.fps) +
      float('latency_p50', p.latency_p50) +
      float('latency_p95', p.latency_p95) +
      float('latency_max', p.latency_max) +
      float('memory_mb', p.memory_mb) +
      integer('errors', p.errors) +
      float('window_s', p.window_s) +
      (p.map === undefined ? '' : float('map', p.map)) +
      (p.latency_hist === undefined
        ? ''
        : `,latency_hist=${quoteString(encodeHistogram(p.latency_hist))}`) +
      (p.shadow === undefined ? '' : shadowFields(p.shadow)) +
      ' ' +
      ms +
      '\n'
    );
  }

  private head(tags: TelemetryTags): string {
    const cached = this.heads.get(tags.device);
    if (
      cached !== undefined &&
      cached.group === tags.group &&
      cached.environment === tags.environment &&
      cached.deployment === tags.deployment &&
      cached.model_id === tags.model_id &&
      cached.model_version === tags.model_version &&
      cached.slot === tags.slot
    ) {
      return cached.head;
    }
    let head = this.measurement;
    for (const key of TELEMETRY_TAG_KEYS) head += tagPair(key, tags[key]);
    head += ` device_id=${quoteString(tags.device)}`;
    if (cached === undefined && this.heads.size >= this.maxDevices) this.heads.clear();
    this.heads.set(tags.device, {
      group: tags.group,
      environment: tags.environment,
      deployment: tags.deployment,
      model_id: tags.model_id,
      model_version: tags.model_version,
      slot: tags.slot,
      head,
    });
    return head;
  }
}

/** Deployment transitions (rare): no cache. Tags deployment, environment, type; string fields. */
export function encodeDeploymentEvents(events: readonly DeploymentEventPoint[]): string {
  const measurement = escapeMeasurement(EVENTS_MEASUREMENT);
  let body = '';
  for (const e of events) {
    const ms = e.time.getTime();
    if (!Number.isFinite(ms)) continue;
    body +=
      measurement +
      tagPair('deployment', e.deployment) +
      tagPair('environment', e.environment) +
      tagPair('type', e.type) +
      ` actor=${quoteString(e.actor)},groups=${quoteString(e.groups)}` +
      `,model_version=${quoteString(e.model_version)},text=${quoteString(e.text)}` +
      ` ${ms}\n`;
  }
  return body;
}
