import http from 'node:http';
import https from 'node:https';
import { FieldType, InfluxDB, type ISchemaOptions } from 'influx';
import {
  encodeDeploymentEvents,
  LINE_PRECISION,
  TelemetryLineEncoder,
} from './domain/line-protocol.js';
import { foldShadowWindows } from './domain/shadow-aggregate.js';
import { mergeStoredHistograms } from './domain/stored-histogram.js';
import { seriesOf, type Series } from './domain/telemetry-query.js';
import {
  TelemetryRejectedError,
  type AggregateQuery,
  type DeploymentEventPoint,
  type DeviceAggregate,
  type SeriesQuery,
  type ShadowDeviceAggregate,
  type ShadowQuery,
  type TelemetryPoint,
  type TelemetryStore,
} from './telemetry-store.js';

export interface InfluxOptions {
  url: string;
  database: string;
  username?: string;
  password?: string;
  retentionDays: number;
}

export const RETENTION_POLICY = 'sentinel';

/**
 * The `telemetry` measurement's tags and field types: what TelemetryLineEncoder writes (its spec
 * checks the two agree) and what bench/ingest's raw loop writes through the `influx` client.
 */
export const TELEMETRY_SCHEMA: ISchemaOptions = {
  measurement: 'telemetry',
  tags: ['device', 'group', 'environment', 'deployment', 'model_id', 'model_version', 'slot'],
  fields: {
    device_id: FieldType.STRING,
    frames: FieldType.INTEGER,
    fps: FieldType.FLOAT,
    latency_p50: FieldType.FLOAT,
    latency_p95: FieldType.FLOAT,
    latency_max: FieldType.FLOAT,
    memory_mb: FieldType.FLOAT,
    errors: FieldType.INTEGER,
    window_s: FieldType.FLOAT,
    map: FieldType.FLOAT,
    latency_hist: FieldType.STRING,
    shadow_model_id: FieldType.STRING,
    shadow_model_version: FieldType.STRING,
    shadow_comparison: FieldType.STRING,
    shadow_samples: FieldType.INTEGER,
    shadow_dropped: FieldType.INTEGER,
    shadow_errors: FieldType.INTEGER,
    shadow_latency_p50: FieldType.FLOAT,
    shadow_latency_p95: FieldType.FLOAT,
    shadow_active_latency_p50: FieldType.FLOAT,
    shadow_active_latency_p95: FieldType.FLOAT,
    shadow_agreement: FieldType.FLOAT,
  },
};

/** A write whose connection stays silent this long counts as failed (and is retried). */
const WRITE_TIMEOUT_MS = 30_000;

/**
 * InfluxDB through the v1 HTTP API (/write with line protocol, /query with InfluxQL), which
 * InfluxDB 1.x serves natively and 2.x / 3.x through their v1 compatibility API.
 *
 * Writes skip the `influx` client: the points are encoded by TelemetryLineEncoder (tag sets cached
 * per device) and posted over connections kept alive between writes (node:http with a keep-alive
 * agent: half the client CPU of the global fetch per 5000-point batch, and close() can end its
 * sockets). The client stays for the database, the retention policy and the queries.
 */
export class InfluxTelemetryStore implements TelemetryStore {
  readonly kind = 'influxdb' as const;
  private readonly client: InfluxDB;
  private readonly encoder = new TelemetryLineEncoder();
  private readonly writeUrl: URL;
  private readonly headers: Record<string, string>;
  private readonly transport: typeof http | typeof https;
  private readonly agent: http.Agent;

  constructor(private readonly options: InfluxOptions) {
    const url = new URL(options.url);
    this.client = new InfluxDB({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 8086)),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      database: options.database,
      username: options.username,
      password: options.password,
    });
    // Like the client: the origin only (a path in INFLUX_URL is ignored), Basic auth when a user
    // is configured (InfluxDB 2.x / 3.x take a token as the password).
    const query = new URLSearchParams({
      db: options.database,
      rp: RETENTION_POLICY,
      precision: LINE_PRECISION,
    });
    this.writeUrl = new URL(`${url.origin}/write?${query.toString()}`);
    this.transport = url.protocol === 'https:' ? https : http;
    this.agent = new this.transport.Agent({ keepAlive: true });
    this.headers = { 'content-type': 'text/plain; charset=utf-8' };
    if (options.username !== undefined) {
      const credentials = `${options.username}:${options.password ?? ''}`;
      this.headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
  }

  async init(): Promise<void> {
    const { database, retentionDays } = this.options;
    // CREATE DATABASE and CREATE RETENTION POLICY are idempotent with the same options.
    await this.client.createDatabase(database);
    const policies = await this.client.showRetentionPolicies(database);
    const options = { database, duration: `${retentionDays}d`, replication: 1, isDefault: true };
    if (policies.some((p) => p.name === RETENTION_POLICY)) {
      await this.client.alterRetentionPolicy(RETENTION_POLICY, options);
    } else {
      await this.client.createRetentionPolicy(RETENTION_POLICY, options);
    }
  }

  async write(points: readonly TelemetryPoint[]): Promise<void> {
    if (points.length === 0) return;
    await this.post(this.encoder.encode(points));
  }

  async writeEvents(events: readonly DeploymentEventPoint[]): Promise<void> {
    if (events.length === 0) return;
    await this.post(Buffer.from(encodeDeploymentEvents(events)));
  }

  /**
   * POSTs line protocol to /write. HTTP 400 (InfluxDB refuses the data: a field type conflict, a
   * partial write, a line it cannot parse) is a TelemetryRejectedError; anything else (network,
   * timeout, 401/403/404 until the operator fixes the configuration, 5xx) is a plain, transient
   * Error. Both carry the status and InfluxDB's own message.
   */
  private async post(body: Buffer): Promise<void> {
    if (body.length === 0) return;
    const { status, text } = await this.send(body);
    if (status >= 200 && status < 300) return;
    const message = influxErrorMessage(text) || http.STATUS_CODES[status] || '';
    // 1.x lists every line it could not parse: keep the log line short.
    const shown = message.length > 500 ? `${message.slice(0, 500)}...` : message;
    if (status === 400) {
      throw new TelemetryRejectedError(
        `InfluxDB refused the write (HTTP 400): ${shown}`,
        rejectedPoints(message),
      );
    }
    throw new Error(`InfluxDB write failed (HTTP ${status}): ${shown}`);
  }

  private send(payload: Buffer): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const request = this.transport.request(
        this.writeUrl,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.headers, 'content-length': payload.length },
          timeout: WRITE_TIMEOUT_MS,
        },
        (response) => {
          // Read the body in every case: an unread one keeps the socket from being reused.
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
        },
      );
      request.on('timeout', () =>
        request.destroy(new Error(`InfluxDB write timed out after ${WRITE_TIMEOUT_MS} ms`)),
      );
      request.on('error', reject);
      request.end(payload);
    });
  }

  /**
   * Two statements in one request: the per-device means and spreads, and the raw `latency_hist`
   * strings of the range (InfluxQL cannot add up JSON), merged here per device. A point without a
   * histogram has no `latency_hist` field and is not in the second result at all.
   */
  async aggregateByDevice(query: AggregateQuery): Promise<DeviceAggregate[]> {
    if (query.groups?.length === 0 || query.models?.length === 0) return [];
    const scope =
      query.deployment !== undefined
        ? `"deployment" = ${stringLiteral(query.deployment)}`
        : `(${query.groups.map((g) => `"group" = ${stringLiteral(g)}`).join(' OR ')})`;
    const models = query.models
      ? ` AND (${query.models.map((m) => `"model_id" = ${stringLiteral(m)}`).join(' OR ')})`
      : '';
    const where = `WHERE ${scope}${models}
          AND time >= ${stringLiteral(query.from.toISOString())} AND time < ${stringLiteral(query.to.toISOString())}`;
    const [results, hists] = await this.client.query<Record<string, unknown>>([
      `SELECT mean("fps") AS fps, stddev("fps") AS fps_sd, mean("latency_p95") AS p95,
              stddev("latency_p95") AS p95_sd, mean("memory_mb") AS mem, stddev("memory_mb") AS mem_sd,
              sum("frames") AS frames, sum("errors") AS errors, mean("map") AS map, count("fps") AS samples
         FROM "${RETENTION_POLICY}"."telemetry"
        ${where}
        GROUP BY "model_version", "device"`,
      `SELECT "latency_hist" FROM "${RETENTION_POLICY}"."telemetry"
        ${where}
        GROUP BY "model_version", "device"`,
    ]);
    const key = (tags: Record<string, string>) =>
      `${tags.model_version ?? ''}\u0000${tags.device ?? ''}`;
    const merged = new Map(
      hists!
        .groups()
        .map((group) => [
          key(group.tags),
          mergeStoredHistograms(group.rows.map((row) => row.latency_hist)),
        ]),
    );
    return results!.groups().flatMap((group) =>
      group.rows.map((row) => ({
        device: group.tags.device ?? '',
        model_version: group.tags.model_version ?? '',
        samples: Number(row.samples ?? 0),
        fps: Number(row.fps ?? 0),
        fps_sd: Number(row.fps_sd ?? 0),
        latency_p95: Number(row.p95 ?? 0),
        latency_p95_sd: Number(row.p95_sd ?? 0),
        memory_mb: Number(row.mem ?? 0),
        memory_mb_sd: Number(row.mem_sd ?? 0),
        frames: Number(row.frames ?? 0),
        errors: Number(row.errors ?? 0),
        map: row.map === null || row.map === undefined ? null : Number(row.map),
        latency_hist: merged.get(key(group.tags)) ?? null,
      })),
    );
  }

  /**
   * InfluxQL groups by tags only and the candidate's version is a field, so the deployment's shadow
   * windows are read (the few fields needed) and folded by domain/shadow-aggregate.
   */
  async aggregateShadow(query: ShadowQuery): Promise<ShadowDeviceAggregate[]> {
    const results = await this.client.query<Record<string, unknown>>(
      `SELECT "shadow_model_id", "shadow_model_version", "shadow_comparison", "shadow_samples",
              "shadow_dropped", "shadow_errors", "shadow_latency_p95", "shadow_active_latency_p95",
              "shadow_agreement"
         FROM "${RETENTION_POLICY}"."telemetry"
        WHERE "deployment" = ${stringLiteral(query.deployment)} AND "shadow_samples" > 0
          AND time >= ${stringLiteral(query.from.toISOString())} AND time < ${stringLiteral(query.to.toISOString())}
        GROUP BY "device"`,
    );
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return foldShadowWindows(
      results.groups().flatMap((group) =>
        group.rows.map((row) => ({
          device: group.tags.device ?? '',
          model_id: String(row.shadow_model_id ?? ''),
          model_version: String(row.shadow_model_version ?? ''),
          comparison: String(row.shadow_comparison ?? ''),
          samples: Number(row.shadow_samples ?? 0),
          dropped: Number(row.shadow_dropped ?? 0),
          errors: Number(row.shadow_errors ?? 0),
          latency_p95: num(row.shadow_latency_p95),
          active_latency_p95: num(row.shadow_active_latency_p95),
          agreement: num(row.shadow_agreement),
        })),
      ),
    );
  }

  /**
   * GROUP BY time(step): InfluxDB's buckets start at multiples of the step since the Unix epoch,
   * as the SQL store's do; fill(none) leaves out the empty ones.
   */
  async querySeries(query: SeriesQuery): Promise<Series[]> {
    const filters: [keyof SeriesQuery, string][] = [
      ['device', 'device'],
      ['modelVersion', 'model_id'],
      ['deployment', 'deployment'],
      ['group', 'group'],
    ];
    const where = [
      `time >= ${stringLiteral(query.from.toISOString())}`,
      `time < ${stringLiteral(query.to.toISOString())}`,
      ...filters.flatMap(([key, tag]) => {
        const value = query[key];
        return typeof value === 'string' ? [`"${tag}" = ${stringLiteral(value)}`] : [];
      }),
    ];
    const by = query.by === 'device' ? `"model_id", "device"` : `"model_id"`;
    const results = await this.client.query<Record<string, unknown>>(
      `SELECT count("fps") AS windows, sum("frames") AS frames, mean("fps") AS fps,
              mean("latency_p50") AS p50, mean("latency_p95") AS p95, mean("memory_mb") AS mem,
              sum("errors") AS errors, mean("map") AS map
         FROM "${RETENTION_POLICY}"."telemetry"
        WHERE ${where.join(' AND ')}
        GROUP BY time(${query.stepS}s), ${by} fill(none)`,
    );
    return seriesOf(
      results.groups().flatMap((group) =>
        group.rows.map((row) => ({
          model_version: group.tags.model_id ?? '',
          device: query.by === 'device' ? (group.tags.device ?? '') : null,
          time: (row.time as Date).getTime(),
          windows: Number(row.windows ?? 0),
          frames: Number(row.frames ?? 0),
          fps: Number(row.fps ?? 0),
          latency_p50: Number(row.p50 ?? 0),
          latency_p95: Number(row.p95 ?? 0),
          memory_mb: Number(row.mem ?? 0),
          errors: Number(row.errors ?? 0),
          map: row.map === null || row.map === undefined ? null : Number(row.map),
        })),
      ),
    );
  }

  async close(): Promise<void> {
    // The writes' kept-alive sockets; the client opens a connection per query.
    this.agent.destroy();
  }
}

/** InfluxDB's error text: `{"error": "..."}` (1.x, 3.x) or `{"message": "..."}` (2.x). */
function influxErrorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    const message = parsed.error ?? parsed.message;
    if (typeof message === 'string') return message.trim();
  } catch {
    // not JSON: a proxy's page, say
  }
  return body.trim();
}

/**
 * Points refused by a partial write, from InfluxDB 1.x's message: "partial write: ... dropped=N"
 * counts the points it refused (a field type conflict), and each line it could not parse is one
 * "unable to parse" more (it is not in N). Other messages: undefined, the whole batch.
 */
function rejectedPoints(message: string): number | undefined {
  if (!message.startsWith('partial write')) return undefined;
  const dropped = /dropped=(\d+)/.exec(message);
  if (!dropped) return undefined;
  return Number(dropped[1]) + (message.match(/unable to parse/g)?.length ?? 0);
}

/**
 * An InfluxQL string literal. The `influx` client's escape.stringLit escapes quotes only, but
 * InfluxQL also reads backslash escapes (`\\`, `\'`), so a backslash must be doubled too.
 */
function stringLiteral(value: string): string {
  return `'${value.replace(/[\\']/g, '\\$&')}'`;
}
