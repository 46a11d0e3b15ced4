import { FieldType, InfluxDB, escape, type IPoint, type ISchemaOptions } from 'influx';
import {
  combineDeviceRows,
  type AggregateQuery,
  type DeploymentEventPoint,
  type TelemetryPoint,
  type TelemetryStore,
  type VersionAggregate,
} from './telemetry-store.js';

export interface InfluxOptions {
  url: string;
  database: string;
  username?: string;
  password?: string;
  retentionDays: number;
}

export const RETENTION_POLICY = 'sentinel';

/** The `telemetry` measurement's tags and field types (also what bench/ingest's raw loop writes). */
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
  },
};

/**
 * InfluxDB through the v1 HTTP API (/write with line protocol, /query with InfluxQL), which
 * InfluxDB 1.x serves natively and 2.x / 3.x through their v1 compatibility API.
 */
export class InfluxTelemetryStore implements TelemetryStore {
  readonly kind = 'influxdb' as const;
  private readonly client: InfluxDB;

  constructor(private readonly options: InfluxOptions) {
    const url = new URL(options.url);
    this.client = new InfluxDB({
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 8086)),
      protocol: url.protocol === 'https:' ? 'https' : 'http',
      database: options.database,
      username: options.username,
      password: options.password,
      schema: [
        TELEMETRY_SCHEMA,
        {
          measurement: 'deployment_events',
          tags: ['deployment', 'type', 'environment'],
          fields: {
            text: FieldType.STRING,
            model_version: FieldType.STRING,
            actor: FieldType.STRING,
            groups: FieldType.STRING,
          },
        },
      ],
    });
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
    const lines: IPoint[] = points.map((p) => ({
      measurement: 'telemetry',
      tags: { ...p.tags },
      fields: {
        device_id: p.tags.device,
        frames: p.frames,
        fps: p.fps,
        latency_p50: p.latency_p50,
        latency_p95: p.latency_p95,
        latency_max: p.latency_max,
        memory_mb: p.memory_mb,
        errors: p.errors,
        window_s: p.window_s,
        ...(p.map !== undefined ? { map: p.map } : {}),
      },
      timestamp: p.time,
    }));
    await this.client.writePoints(lines, { precision: 'ms', retentionPolicy: RETENTION_POLICY });
  }

  async writeEvents(events: readonly DeploymentEventPoint[]): Promise<void> {
    if (events.length === 0) return;
    await this.client.writePoints(
      events.map((e) => ({
        measurement: 'deployment_events',
        tags: { deployment: e.deployment, type: e.type, environment: e.environment },
        fields: { text: e.text, model_version: e.model_version, actor: e.actor, groups: e.groups },
        timestamp: e.time,
      })),
      { precision: 'ms', retentionPolicy: RETENTION_POLICY },
    );
  }

  async aggregateByVersion(query: AggregateQuery): Promise<VersionAggregate[]> {
    const results = await this.client.query<Record<string, number | null>>(
      `SELECT mean("fps") AS fps, mean("latency_p95") AS p95, mean("memory_mb") AS mem,
              sum("frames") AS frames, sum("errors") AS errors, mean("map") AS map, count("fps") AS samples
         FROM "${RETENTION_POLICY}"."telemetry"
        WHERE "deployment" = ${escape.stringLit(query.deployment)}
          AND time >= ${escape.stringLit(query.from.toISOString())} AND time < ${escape.stringLit(query.to.toISOString())}
        GROUP BY "model_version", "device"`,
    );
    const rows = results.groups().flatMap((group) =>
      group.rows.map((row) => ({
        model_version: group.tags.model_version ?? '',
        fps: Number(row.fps ?? 0),
        p95: Number(row.p95 ?? 0),
        mem: Number(row.mem ?? 0),
        frames: Number(row.frames ?? 0),
        errors: Number(row.errors ?? 0),
        map: row.map === null || row.map === undefined ? null : Number(row.map),
        samples: Number(row.samples ?? 0),
      })),
    );
    return combineDeviceRows(rows);
  }

  async close(): Promise<void> {
    // The client keeps no connections open between requests.
  }
}
