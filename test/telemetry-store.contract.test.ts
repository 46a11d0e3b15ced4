// One contract for both telemetry stores: InfluxDB (a real influxd) and the embedded SQL table.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DataSource } from 'typeorm';
import { InfluxTelemetryStore, RETENTION_POLICY } from '../src/telemetry/influx-telemetry-store.js';
import { SqlTelemetryStore } from '../src/telemetry/sql-telemetry-store.js';
import type { TelemetryPoint, TelemetryStore } from '../src/telemetry/telemetry-store.js';
import { skipWithoutInflux, startInflux, type InfluxServer } from './support/influx.js';
import { startHub, type InProcessHub } from './support/hub.js';

const T0 = Date.parse('2026-11-29T10:00:00Z');

function point(
  device: string,
  version: string,
  seconds: number,
  fields: Partial<TelemetryPoint> = {},
  deployment = 'dep-1',
): TelemetryPoint {
  return {
    time: new Date(T0 + seconds * 1000),
    tags: {
      device,
      group: 'yard',
      environment: 'production',
      deployment,
      model_id: `id-${version}`,
      model_version: version,
      slot: 'blue',
    },
    frames: 100,
    fps: 10,
    latency_p50: 5,
    latency_p95: 9,
    latency_max: 12,
    memory_mb: 100,
    errors: 0,
    window_s: 10,
    ...fields,
  };
}

const ENGINES: {
  name: string;
  skip: string | false;
  open(): Promise<{ store: TelemetryStore; close(): Promise<void> }>;
}[] = [
  {
    name: 'InfluxDB',
    skip: skipWithoutInflux,
    async open() {
      const server: InfluxServer = await startInflux();
      const store = new InfluxTelemetryStore({
        url: server.url,
        database: 'sentinel_test',
        retentionDays: 7,
      });
      return { store, close: () => server.stop() };
    },
  },
  {
    name: 'embedded (SQL table)',
    skip: false,
    async open() {
      const hub: InProcessHub = await startHub();
      return { store: new SqlTelemetryStore(hub.app.get(DataSource), 7), close: () => hub.stop() };
    },
  },
];

for (const engine of ENGINES) {
  describe(`telemetry store contract: ${engine.name}`, { skip: engine.skip }, () => {
    let store: TelemetryStore;
    let close: () => Promise<void>;

    before(async () => {
      ({ store, close } = await engine.open());
      await store.init();
      await store.init(); // idempotent
      await store.write([
        // v1 on two devices: cam-a twice (fps 10 and 20 -> mean 15), cam-b once (fps 30).
        point('cam-a', '1.0.0', 10, {
          fps: 10,
          latency_p95: 8,
          memory_mb: 100,
          frames: 100,
          errors: 1,
        }),
        point('cam-a', '1.0.0', 20, {
          fps: 20,
          latency_p95: 12,
          memory_mb: 120,
          frames: 200,
          errors: 0,
        }),
        point('cam-b', '1.0.0', 15, {
          fps: 30,
          latency_p95: 20,
          memory_mb: 200,
          frames: 300,
          errors: 2,
          map: 0.8,
        }),
        // v2 on one device, with mAP.
        point('cam-c', '2.0.0', 15, {
          fps: 5,
          latency_p95: 40,
          memory_mb: 300,
          frames: 50,
          errors: 5,
          map: 0.6,
        }),
        // Outside the window, and another deployment: never counted.
        point('cam-a', '1.0.0', 100, { fps: 999 }),
        point('cam-a', '1.0.0', 15, { fps: 999 }, 'dep-2'),
      ]);
      await store.writeEvents([
        {
          time: new Date(T0),
          deployment: 'dep-1',
          type: 'cutover',
          environment: 'production',
          text: 'all staged',
          model_version: '2.0.0',
          actor: 'hub',
          groups: 'yard',
        },
      ]);
    });
    after(async () => {
      await close();
    });

    it('aggregates per version over devices: means of device means, sums of counts', async () => {
      const aggregates = await store.aggregateByVersion({
        deployment: 'dep-1',
        from: new Date(T0),
        to: new Date(T0 + 60_000),
      });
      assert.deepEqual(
        aggregates.map((a) => ({
          ...a,
          fps: round(a.fps),
          latency_p95: round(a.latency_p95),
          memory_mb: round(a.memory_mb),
          map: a.map === null ? null : round(a.map),
        })),
        [
          // fps: mean(cam-a 15, cam-b 30) = 22.5; p95: mean(10, 20) = 15; memory: mean(110, 200) = 155;
          // frames 100+200+300; errors 1+0+2; map: only cam-b reported one.
          {
            model_version: '1.0.0',
            devices: 2,
            samples: 3,
            fps: 22.5,
            latency_p95: 15,
            memory_mb: 155,
            frames: 600,
            errors: 3,
            map: 0.8,
          },
          {
            model_version: '2.0.0',
            devices: 1,
            samples: 1,
            fps: 5,
            latency_p95: 40,
            memory_mb: 300,
            frames: 50,
            errors: 5,
            map: 0.6,
          },
        ],
      );
    });

    it('excludes the end of the window and other deployments', async () => {
      const none = await store.aggregateByVersion({
        deployment: 'dep-1',
        from: new Date(T0),
        to: new Date(T0 + 10_000),
      });
      assert.deepEqual(none, []);
      const other = await store.aggregateByVersion({
        deployment: 'dep-2',
        from: new Date(T0),
        to: new Date(T0 + 60_000),
      });
      assert.equal(other.length, 1);
      assert.equal(other[0]!.fps, 999);
    });

    if (engine.name === 'embedded (SQL table)') {
      it('prunes points older than the retention', async () => {
        const sql = store as SqlTelemetryStore;
        // Retention 7 days: a point 8 days before "now" goes, the seeded ones (T0) stay.
        await sql.write([point('cam-old', '1.0.0', -8 * 86_400, {}, 'dep-old')]);
        assert.equal(await sql.prune(new Date(T0)), 1);
        const left = await sql.aggregateByVersion({
          deployment: 'dep-1',
          from: new Date(T0),
          to: new Date(T0 + 60_000),
        });
        assert.equal(left.length, 2);
      });
    }

    if (engine.name === 'InfluxDB') {
      it('creates the database with a default retention policy of the configured length', async () => {
        const influx = store as InfluxTelemetryStore;
        const policies = await (
          influx as unknown as {
            client: {
              showRetentionPolicies(
                db: string,
              ): Promise<{ name: string; duration: string; default: boolean }[]>;
            };
          }
        ).client.showRetentionPolicies('sentinel_test');
        const ours = policies.find((p) => p.name === RETENTION_POLICY);
        assert.ok(ours?.default);
        assert.equal(ours?.duration, '168h0m0s');
      });
    }
  });
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
