import type { DataSource } from 'typeorm';
import type {
  AggregateQuery,
  DeploymentEventPoint,
  DeviceAggregate,
  SeriesQuery,
  ShadowDeviceAggregate,
  ShadowQuery,
  TelemetryPoint,
  TelemetryStore,
} from './telemetry-store.js';
import { sortShadowRows } from './domain/shadow-aggregate.js';
import { mergeStoredHistograms } from './domain/stored-histogram.js';
import { seriesOf, type Series } from './domain/telemetry-query.js';

/** The series filters and the columns they match. */
const SERIES_FILTERS = [
  ['device', 'device'],
  ['modelVersion', 'model_id'],
  ['deployment', 'deployment'],
  ['group', 'group_name'],
] as const;

const SHADOW_COLUMNS = [
  'shadow_model_id',
  'shadow_model_version',
  'shadow_comparison',
  'shadow_samples',
  'shadow_dropped',
  'shadow_errors',
  'shadow_latency_p50',
  'shadow_latency_p95',
  'shadow_active_latency_p50',
  'shadow_active_latency_p95',
  'shadow_agreement',
].join(', ');

/** A point's shadow block as the table's shadow_* columns (all null without one). */
function shadowColumns(p: TelemetryPoint): Record<string, string | number | null> {
  const s = p.shadow;
  return {
    shadow_model_id: s?.model_id ?? null,
    shadow_model_version: s?.model_version ?? null,
    shadow_comparison: s?.comparison ?? null,
    shadow_samples: s?.samples ?? null,
    shadow_dropped: s?.dropped ?? null,
    shadow_errors: s?.errors ?? null,
    shadow_latency_p50: s?.latency_p50 ?? null,
    shadow_latency_p95: s?.latency_p95 ?? null,
    shadow_active_latency_p50: s?.active_latency_p50 ?? null,
    shadow_active_latency_p95: s?.active_latency_p95 ?? null,
    shadow_agreement: s?.agreement ?? null,
  };
}

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
      latency_hist: p.latency_hist ?? null,
      ...shadowColumns(p),
    }));
    await this.dataSource.query(
      `INSERT INTO telemetry_points (time, device, group_name, environment, deployment, model_id, model_version, slot,
                                     frames, fps, latency_p50, latency_p95, latency_max, memory_mb, errors, window_s, map,
                                     latency_hist, ${SHADOW_COLUMNS})
       SELECT time, device, "group", environment, deployment, model_id, model_version, slot,
              frames, fps, latency_p50, latency_p95, latency_max, memory_mb, errors, window_s, map,
              latency_hist, ${SHADOW_COLUMNS}
         FROM jsonb_to_recordset($1::jsonb) AS r(
           time timestamptz, device text, "group" text, environment text, deployment text, model_id text,
           model_version text, slot text, frames integer, fps double precision, latency_p50 double precision,
           latency_p95 double precision, latency_max double precision, memory_mb double precision,
           errors integer, window_s double precision, map double precision, latency_hist jsonb,
           shadow_model_id text, shadow_model_version text, shadow_comparison text, shadow_samples integer,
           shadow_dropped integer, shadow_errors integer, shadow_latency_p50 double precision,
           shadow_latency_p95 double precision, shadow_active_latency_p50 double precision,
           shadow_active_latency_p95 double precision, shadow_agreement double precision)`,
      [JSON.stringify(rows)],
    );
  }

  async writeEvents(_events: readonly DeploymentEventPoint[]): Promise<void> {
    // deployment_events rows are the record; nothing to copy.
  }

  async aggregateByDevice(query: AggregateQuery): Promise<DeviceAggregate[]> {
    if (query.groups?.length === 0 || query.models?.length === 0) return [];
    const [scope, value] =
      query.deployment !== undefined
        ? ['deployment = $1', query.deployment]
        : ['group_name = ANY($1)', query.groups];
    const models = query.models ? 'AND model_id = ANY($4)' : '';
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT device, model_version, count(*) AS samples,
              avg(fps) AS fps, stddev_samp(fps) AS fps_sd,
              avg(latency_p95) AS p95, stddev_samp(latency_p95) AS p95_sd,
              avg(memory_mb) AS mem, stddev_samp(memory_mb) AS mem_sd,
              sum(frames) AS frames, sum(errors) AS errors, avg(map) AS map,
              jsonb_agg(latency_hist) FILTER (WHERE latency_hist IS NOT NULL) AS hists
         FROM telemetry_points
        WHERE ${scope} AND time >= $2 AND time < $3 ${models}
        GROUP BY model_version, device`,
      [
        value,
        query.from.toISOString(),
        query.to.toISOString(),
        ...(query.models ? [query.models] : []),
      ],
    );
    return rows.map((r) => ({
      device: String(r.device),
      model_version: String(r.model_version),
      samples: Number(r.samples),
      fps: Number(r.fps),
      fps_sd: Number(r.fps_sd ?? 0),
      latency_p95: Number(r.p95),
      latency_p95_sd: Number(r.p95_sd ?? 0),
      memory_mb: Number(r.mem),
      memory_mb_sd: Number(r.mem_sd ?? 0),
      frames: Number(r.frames),
      errors: Number(r.errors),
      map: r.map === null ? null : Number(r.map),
      // The windows' histograms, merged here (no window with one: SQL NULL).
      latency_hist: Array.isArray(r.hists) ? mergeStoredHistograms(r.hists) : null,
    }));
  }

  /** Grouped by the database: its stddev_samp is the sample sd, avg skips the NULLs. */
  async aggregateShadow(query: ShadowQuery): Promise<ShadowDeviceAggregate[]> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT device, shadow_model_version AS version, min(shadow_model_id) AS model_id,
              min(shadow_comparison) AS comparison, count(*) AS windows,
              sum(shadow_samples) AS samples, sum(shadow_dropped) AS dropped, sum(shadow_errors) AS errors,
              avg(shadow_latency_p95) AS p95, stddev_samp(shadow_latency_p95) AS p95_sd,
              avg(shadow_active_latency_p95) AS active, stddev_samp(shadow_active_latency_p95) AS active_sd,
              avg(shadow_agreement) AS agreement, stddev_samp(shadow_agreement) AS agreement_sd
         FROM telemetry_points
        WHERE deployment = $1 AND time >= $2 AND time < $3 AND shadow_samples > 0
        GROUP BY device, shadow_model_version`,
      [query.deployment, query.from.toISOString(), query.to.toISOString()],
    );
    const orNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return sortShadowRows(
      rows.map((r) => ({
        device: String(r.device),
        model_id: String(r.model_id),
        model_version: String(r.version),
        comparison: String(r.comparison),
        windows: Number(r.windows),
        samples: Number(r.samples),
        dropped: Number(r.dropped),
        errors: Number(r.errors),
        latency_p95: orNull(r.p95),
        latency_p95_sd: Number(r.p95_sd ?? 0),
        active_latency_p95: orNull(r.active),
        active_latency_p95_sd: Number(r.active_sd ?? 0),
        agreement: orNull(r.agreement),
        agreement_sd: Number(r.agreement_sd ?? 0),
      })),
    );
  }

  /** Buckets computed by the database: the start of each is floor(epoch / step) * step. */
  async querySeries(query: SeriesQuery): Promise<Series[]> {
    const params: unknown[] = [query.stepS, query.from.toISOString(), query.to.toISOString()];
    const where = ['time >= $2', 'time < $3'];
    for (const [key, column] of SERIES_FILTERS) {
      const value = query[key];
      if (value === undefined) continue;
      params.push(value);
      where.push(`${column} = $${params.length}`);
    }
    const device = query.by === 'device' ? 'device' : 'NULL::text';
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT model_id, ${device} AS device,
              (floor(extract(epoch FROM time) / $1) * $1 * 1000)::bigint AS bucket,
              count(*) AS windows, sum(frames) AS frames, avg(fps) AS fps,
              avg(latency_p50) AS p50, avg(latency_p95) AS p95, avg(memory_mb) AS mem,
              sum(errors) AS errors, avg(map) AS map
         FROM telemetry_points
        WHERE ${where.join(' AND ')}
        GROUP BY 1, 2, 3`,
      params,
    );
    return seriesOf(
      rows.map((r) => ({
        model_version: String(r.model_id),
        device: r.device === null ? null : String(r.device),
        time: Number(r.bucket),
        windows: Number(r.windows),
        frames: Number(r.frames),
        fps: Number(r.fps),
        latency_p50: Number(r.p50),
        latency_p95: Number(r.p95),
        memory_mb: Number(r.mem),
        errors: Number(r.errors),
        map: r.map === null ? null : Number(r.map),
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
