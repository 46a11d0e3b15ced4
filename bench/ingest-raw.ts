// The raw reference of bench/ingest.ts: the same points as the devices send (same tags and fields)
// written by a plain `influx` client loop, and a count of what a database holds.
import { InfluxDB, type IPoint } from 'influx';
import { TELEMETRY_SCHEMA } from '../src/telemetry/influx-telemetry-store.js';
import type { InfluxServer } from '../test/support/influx.js';
import { SAMPLE_MODEL, SAMPLE_PLACEMENT, sampleValues } from './ingest-ipc.js';
import { cpuMsOf } from './ingest-procs.js';

export const RAW_BATCH = 5000;

/** A client with the hub's own `telemetry` schema. */
export function rawClient(url: string, database: string): InfluxDB {
  const { hostname, port } = new URL(url);
  return new InfluxDB({
    host: hostname,
    port: Number(port),
    database,
    schema: [TELEMETRY_SCHEMA],
  });
}

/** Point i of the raw run: device i % M, its (i / M)-th window, 1 ms apart per device. */
export function rawPoint(ids: string[], i: number, t0: number): IPoint {
  const device = ids[i % ids.length];
  const n = Math.floor(i / ids.length);
  const v = sampleValues(n);
  return {
    measurement: 'telemetry',
    tags: {
      device,
      group: SAMPLE_PLACEMENT.group,
      environment: SAMPLE_PLACEMENT.environment,
      deployment: SAMPLE_MODEL.deployment_id,
      model_id: SAMPLE_MODEL.model_id,
      model_version: SAMPLE_MODEL.model_version,
      slot: SAMPLE_MODEL.slot,
    },
    fields: {
      device_id: device,
      frames: v.frames,
      fps: v.fps,
      latency_p50: v.p50,
      latency_p95: v.p95,
      latency_max: v.max,
      memory_mb: v.memory_mb,
      errors: v.errors,
      window_s: v.window_s,
    },
    timestamp: new Date(t0 + n),
  };
}

export interface RawRun {
  writers: number;
  points: number;
  seconds: number;
  influxdCpu: number;
  writerCpu: number;
}

/** `points` points in batches of 5000 by `writers` concurrent loops, into a fresh database. */
export async function rawWrite(
  influx: InfluxServer,
  pid: number,
  ids: string[],
  points: number,
  writers: number,
): Promise<RawRun> {
  const database = `bench_raw_${writers}`;
  const client = rawClient(influx.url, database);
  await client.createDatabase(database);
  const t0 = Date.now() - 60_000;
  const batches = Math.ceil(points / RAW_BATCH);
  let next = 0;
  const loop = async () => {
    while (next < batches) {
      const start = next++ * RAW_BATCH;
      const end = Math.min(points, start + RAW_BATCH);
      const batch: IPoint[] = [];
      for (let i = start; i < end; i++) batch.push(rawPoint(ids, i, t0));
      await client.writePoints(batch, { precision: 'ms' });
    }
  };
  const influxd0 = cpuMsOf(pid);
  const self0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, loop));
  const secs = (performance.now() - started) / 1000;
  const self = process.cpuUsage(self0);
  return {
    writers,
    points,
    seconds: secs,
    influxdCpu: (cpuMsOf(pid) - influxd0) / 10 / secs,
    writerCpu: (self.user + self.system) / 10_000 / secs,
  };
}

export async function influxCount(
  influx: InfluxServer,
  database: string,
  rp: string,
): Promise<number> {
  const client = rawClient(influx.url, database);
  const rows = await client.query<{ count: number }>(
    `SELECT count("fps") AS count FROM "${rp}"."telemetry"`,
  );
  return Number(rows[0]?.count ?? 0);
}
