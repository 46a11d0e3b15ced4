import type { AggregateQuery, DeviceAggregate, TelemetryPoint } from '../telemetry-store.js';
import { DeviceAccumulator } from './aggregate.js';
import { packHistogram, type PackedHistogram } from './stored-histogram.js';

/** What a point contributes to an aggregate; the strings are the point's own (shared, not copied). */
interface Sample {
  time: number;
  device: string;
  group: string;
  version: string;
  /** The model version's id (the point's `model_id`). */
  model: string;
  fps: number;
  latency_p95: number;
  memory_mb: number;
  frames: number;
  errors: number;
  map: number | undefined;
  /** Packed: a parsed histogram takes ~70 bytes a bucket, and the cache holds minutes of a fleet. */
  latency_hist: PackedHistogram | undefined;
}

export interface RecentTelemetryOptions {
  /** Points older than this (by their time) are forgotten; a window reaching further is not answered. */
  spanMs: number;
  /** When the cache began: a window starting earlier is not answered (the store has what came before). */
  since: number;
}

/**
 * The telemetry points of the last `spanMs` that the store accepted, by deployment, so that the
 * rules can aggregate a window without a query: at 10,000 devices InfluxDB 1.x took 5-7 s for one
 * window's per-device GROUP BY. It holds only what the store accepted, so it answers what the store
 * would (an outage is missing data here too), as the same per-device rows. A window it does not
 * cover gets null: ask the store. Points of devices without a deployment are kept too: the window
 * before a canary's first step is read by group.
 */
export class RecentTelemetry {
  private readonly byDeployment = new Map<string, Sample[]>();

  constructor(private readonly options: RecentTelemetryOptions) {}

  /** Points in the cache (for /metrics and tests). */
  get size(): number {
    let n = 0;
    for (const samples of this.byDeployment.values()) n += samples.length;
    return n;
  }

  add(points: readonly TelemetryPoint[]): void {
    for (const p of points) {
      const time = p.time.getTime();
      if (!(time >= this.options.since)) continue;
      let samples = this.byDeployment.get(p.tags.deployment);
      if (!samples) this.byDeployment.set(p.tags.deployment, (samples = []));
      samples.push({
        time,
        device: p.tags.device,
        group: p.tags.group,
        version: p.tags.model_version,
        model: p.tags.model_id,
        fps: p.fps,
        latency_p95: p.latency_p95,
        memory_mb: p.memory_mb,
        frames: p.frames,
        errors: p.errors,
        map: p.map,
        latency_hist: p.latency_hist === undefined ? undefined : packHistogram(p.latency_hist),
      });
    }
  }

  /**
   * Forgets points older than the span. Points arrive roughly in time order, so this drops from the
   * front of each list until a recent one: a late point behind it waits for the next prune, and
   * `aggregate` filters by time anyway.
   */
  prune(now: number): void {
    const cutoff = now - this.options.spanMs;
    for (const [deployment, samples] of this.byDeployment) {
      let keep = 0;
      while (keep < samples.length && samples[keep]!.time < cutoff) keep++;
      if (keep === samples.length) this.byDeployment.delete(deployment);
      else if (keep > 0) samples.splice(0, keep);
    }
  }

  /** The store's aggregateByDevice for a window within the cache, else null. */
  aggregate(query: AggregateQuery, now: number): DeviceAggregate[] | null {
    const from = query.from.getTime();
    const to = query.to.getTime();
    if (from < this.options.since || from < now - this.options.spanMs) return null;
    const lists =
      query.deployment !== undefined
        ? [this.byDeployment.get(query.deployment) ?? []]
        : [...this.byDeployment.values()];
    const groups = query.groups ? new Set(query.groups) : null;
    const models = query.models ? new Set(query.models) : null;
    const rows = new Map<string, DeviceAccumulator>();
    for (const samples of lists) {
      for (const s of samples) {
        if (s.time < from || s.time >= to || (groups && !groups.has(s.group))) continue;
        if (models && !models.has(s.model)) continue;
        const key = `${s.version}\u0000${s.device}`;
        let row = rows.get(key);
        if (!row) rows.set(key, (row = new DeviceAccumulator(s.device, s.version)));
        row.add(s);
      }
    }
    return [...rows.values()].map((row) => row.row());
  }
}
