import type { DataSource } from 'typeorm';
import {
  combineDeviceRows,
  type AggregateQuery,
  type DeploymentEventPoint,
  type TelemetryPoint,
  type TelemetryStore,
  type VersionAggregate,
} from './telemetry-store.js';

/**
 * The embedded telemetry store: a table of the hub's SQL database (PGlite or PostgreSQL) with the
 * same aggregates as InfluxDB. Deployment events need no copy here: they are rows already.
 */
export class SqlTelemetryStore implements TelemetryStore {
  readonly kind = 'embedded' as const;

  constructor(
    private readonly dataSource: DataSource,
    private readonly retentionDays: number,
  ) {}

  async init(): Promise<void> {
    // The table comes with the migrations.
  }

  async write(points: readonly TelemetryPoint[]): Promise<void> {
    if (points.length === 0) return;
    const rows = points.map((p) => ({
      time: p.time.toISOString(),
      ...p.tags,
      frames: p.frames,
      fps: p.fps,
      latency_p50: p.latency_p50,
      latency_p95: p.latency_p95,
      latency_max: p.latency_max,
      memory_mb: p.memory_mb,
      errors: p.errors,
      window_s: p.window_s,
      map: p.map ?? null,
    }));
    await this.dataSource.query(
      `INSERT INTO telemetry_points (time, device, group_name, environment, deployment, model_id, model_version, slot,
                                     frames, fps, latency_p50, latency_p95, latency_max, memory_mb, errors, window_s, map)
       SELECT time, device, "group", environment, deployment, model_id, model_version, slot,
              frames, fps, latency_p50, latency_p95, latency_max, memory_mb, errors, window_s, map
         FROM jsonb_to_recordset($1::jsonb) AS r(
           time timestamptz, device text, "group" text, environment text, deployment text, model_id text,
           model_version text, slot text, frames integer, fps double precision, latency_p50 double precision,
           latency_p95 double precision, latency_max double precision, memory_mb double precision,
           errors integer, window_s double precision, map double precision)`,
      [JSON.stringify(rows)],
    );
  }

  async writeEvents(_events: readonly DeploymentEventPoint[]): Promise<void> {
    // deployment_events rows are the record; nothing to copy.
  }

  async aggregateByVersion(query: AggregateQuery): Promise<VersionAggregate[]> {
    const rows: Record<string, string | number | null>[] = await this.dataSource.query(
      `SELECT model_version, avg(fps) AS fps, avg(latency_p95) AS p95, avg(memory_mb) AS mem,
              sum(frames) AS frames, sum(errors) AS errors, avg(map) AS map, count(*) AS samples
         FROM telemetry_points
        WHERE deployment = $1 AND time >= $2 AND time < $3
        GROUP BY model_version, device`,
      [query.deployment, query.from.toISOString(), query.to.toISOString()],
    );
    return combineDeviceRows(
      rows.map((r) => ({
        model_version: String(r.model_version),
        fps: Number(r.fps),
        p95: Number(r.p95),
        mem: Number(r.mem),
        frames: Number(r.frames),
        errors: Number(r.errors),
        map: r.map === null ? null : Number(r.map),
        samples: Number(r.samples),
      })),
    );
  }

  /** Deletes points older than the retention (the embedded store's retention policy). */
  async prune(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.retentionDays * 86_400_000);
    const rows: unknown[] = await this.dataSource.query(
      'WITH gone AS (DELETE FROM telemetry_points WHERE time < $1 RETURNING 1) SELECT 1 FROM gone',
      [cutoff.toISOString()],
    );
    return rows.length;
  }

  async close(): Promise<void> {
    // The data source belongs to the database module.
  }
}
