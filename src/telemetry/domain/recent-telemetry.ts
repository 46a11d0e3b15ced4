import {
  combineDeviceRows,
  type AggregateQuery,
  type DeviceRow,
  type TelemetryPoint,
  type VersionAggregate,
} from '../telemetry-store.js';

/** What a point contributes to an aggregate; the strings are the point's own (shared, not copied). */
interface Sample {
  time: number;
  device: string;
  version: string;
  fps: number;
  p95: number;
  mem: number;
  frames: number;
  errors: number;
  map: number | undefined;
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
 * would (an outage is missing data here too), with the same arithmetic (combineDeviceRows). A
 * window it does not cover gets null: ask the store. Points without a deployment are not kept.
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
      if (p.tags.deployment === 'none' || !(time >= this.options.since)) continue;
      let samples = this.byDeployment.get(p.tags.deployment);
      if (!samples) this.byDeployment.set(p.tags.deployment, (samples = []));
      samples.push({
        time,
        device: p.tags.device,
        version: p.tags.model_version,
        fps: p.fps,
        p95: p.latency_p95,
        mem: p.memory_mb,
        frames: p.frames,
        errors: p.errors,
        map: p.map,
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

  /** The store's aggregateByVersion for a window within the cache, else null. */
  aggregate(query: AggregateQuery, now: number): VersionAggregate[] | null {
    const from = query.from.getTime();
    const to = query.to.getTime();
    if (from < this.options.since || from < now - this.options.spanMs) return null;
    type Row = DeviceRow & { mapSum: number; mapCount: number };
    const byVersion = new Map<string, Map<string, Row>>();
    for (const s of this.byDeployment.get(query.deployment) ?? []) {
      if (s.time < from || s.time >= to) continue;
      let devices = byVersion.get(s.version);
      if (!devices) byVersion.set(s.version, (devices = new Map()));
      let row = devices.get(s.device);
      if (!row) {
        row = {
          model_version: s.version,
          fps: 0,
          p95: 0,
          mem: 0,
          frames: 0,
          errors: 0,
          map: null,
          samples: 0,
          mapSum: 0,
          mapCount: 0,
        };
        devices.set(s.device, row);
      }
      row.samples++;
      row.fps += s.fps;
      row.p95 += s.p95;
      row.mem += s.mem;
      row.frames += s.frames;
      row.errors += s.errors;
      if (s.map !== undefined && Number.isFinite(s.map)) {
        row.mapSum += s.map;
        row.mapCount++;
      }
    }
    return combineDeviceRows(
      [...byVersion.values()]
        .flatMap((devices) => [...devices.values()])
        .map((r) => ({
          model_version: r.model_version,
          fps: r.fps / r.samples,
          p95: r.p95 / r.samples,
          mem: r.mem / r.samples,
          frames: r.frames,
          errors: r.errors,
          map: r.mapCount > 0 ? r.mapSum / r.mapCount : null,
          samples: r.samples,
        })),
    );
  }
}
