// One contract for both telemetry stores: InfluxDB (a real influxd) and the embedded SQL table (and
// the recent-points cache). The latency histograms' part: telemetry-store.histogram.contract.test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InfluxTelemetryStore, RETENTION_POLICY } from '../src/telemetry/influx-telemetry-store.js';
import type { SqlTelemetryStore } from '../src/telemetry/sql-telemetry-store.js';
import { TelemetryRejectedError, type TelemetryStore } from '../src/telemetry/telemetry-store.js';
import { T0, telemetryPoint as point } from './support/telemetry-points.js';
import { aggregate, ENGINES } from './support/telemetry-engines.js';

for (const engine of ENGINES) {
  describe(`telemetry store contract: ${engine.name}`, { skip: engine.skip }, () => {
    let store: TelemetryStore;
    let close: () => Promise<void>;
    let url: string | undefined;

    before(async () => {
      ({ store, close, url } = await engine.open());
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

    it('gives one row per device and version, with the spread of its windows', async () => {
      const rows = await store.aggregateByDevice({
        deployment: 'dep-1',
        from: new Date(T0),
        to: new Date(T0 + 60_000),
      });
      const camA = rows.find((r) => r.device === 'cam-a')!;
      assert.equal(camA.samples, 2);
      assert.equal(camA.fps, 15);
      assert.equal(round(camA.fps_sd), 7.071); // sd of 10 and 20
      assert.equal(round(camA.latency_p95_sd), 2.828); // of 8 and 12
      assert.equal(rows.find((r) => r.device === 'cam-b')!.fps_sd, 0); // one window
      assert.deepEqual(rows.map((r) => `${r.device}@${r.model_version}`).sort(), [
        'cam-a@1.0.0',
        'cam-b@1.0.0',
        'cam-c@2.0.0',
      ]);
    });

    it('answers whole groups over every deployment (the window before a step)', async () => {
      const window = { from: new Date(T0), to: new Date(T0 + 60_000) };
      const rows = await store.aggregateByDevice({ groups: ['yard'], ...window });
      // cam-a's point of dep-2 counts too: the group's devices, whatever they followed.
      assert.equal(rows.find((r) => r.device === 'cam-a')!.samples, 3);
      assert.deepEqual(await store.aggregateByDevice({ groups: ['gate'], ...window }), []);
      assert.deepEqual(await store.aggregateByDevice({ groups: [], ...window }), []);
    });

    it('aggregates per version over devices: means of device means, sums of counts', async () => {
      const aggregates = await aggregate(store, {
        deployment: 'dep-1',
        from: new Date(T0),
        to: new Date(T0 + 60_000),
      });
      // The spread: fps 10 and 20 (cam-a) and 30 (cam-b) as windows; 15 and 30 as device means.
      const spread = aggregates[0]!.spread.fps;
      assert.deepEqual(
        { ...spread.windows, mean: round(spread.windows.mean), sd: round(spread.windows.sd) },
        { n: 3, mean: 20, sd: 10 },
      );
      assert.equal(spread.devices.n, 2);
      assert.equal(round(spread.devices.sd), 10.607);
      assert.deepEqual(
        aggregates.map(({ spread: _spread, ...a }) => ({
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
            latency_p95_fleet: null, // no histograms in these windows
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
            latency_p95_fleet: null,
            memory_mb: 300,
            frames: 50,
            errors: 5,
            map: 0.6,
          },
        ],
      );
    });

    it("answers a group's windows of given model ids only (named models sharing a version)", async () => {
      // One device serving a detector and a classifier, both at 1.0.0, in group lobby.
      const named = (version: string, id: string, fps: number, seconds: number) => {
        const p = point('cam-n', version, seconds, { fps }, 'dep-named');
        return { ...p, tags: { ...p.tags, group: 'lobby', model_id: id } };
      };
      await store.write([
        named('1.0.0', 'id-detector-1', 10, 3010),
        named('1.0.0', 'id-classifier-1', 50, 3012),
        named('1.0.0', 'id-classifier-1', 70, 3014),
      ]);
      const window = { from: new Date(T0 + 3000_000), to: new Date(T0 + 3060_000) };
      const all = await store.aggregateByDevice({ groups: ['lobby'], ...window });
      assert.equal(all.find((r) => r.device === 'cam-n')!.samples, 3, 'the versions are one');
      const rows = await store.aggregateByDevice({
        groups: ['lobby'],
        models: ['id-classifier-1'],
        ...window,
      });
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.samples, 2);
      assert.equal(rows[0]!.fps, 60);
      assert.deepEqual(
        await store.aggregateByDevice({ groups: ['lobby'], models: [], ...window }),
        [],
      );
    });

    it('excludes the end of the window and other deployments', async () => {
      const none = await aggregate(store, {
        deployment: 'dep-1',
        from: new Date(T0),
        to: new Date(T0 + 10_000),
      });
      assert.deepEqual(none, []);
      const other = await aggregate(store, {
        deployment: 'dep-2',
        from: new Date(T0),
        to: new Date(T0 + 60_000),
      });
      assert.equal(other.length, 1);
      assert.equal(other[0]!.fps, 999);
    });

    it('round-trips tag values with spaces, commas, equals signs, quotes and backslashes', async () => {
      // Every character line protocol escapes in a tag value, a backslash before a letter and
      // before an escaped space, and a quote that InfluxQL's string literal must escape.
      const deployment = String.raw`dep "x", a=b \ c\d 'q'`;
      const version = String.raw`1.0 "beta", x=y \z`;
      await store.write([
        point('cam 1,a=b', version, 10, { fps: 6 }, deployment),
        point(String.raw`cam\2 "q"`, version, 20, { fps: 10 }, deployment),
        point('cam 1,a=b', version, 30, { fps: 8 }, deployment),
      ]);
      const aggregates = await aggregate(store, {
        deployment,
        from: new Date(T0),
        to: new Date(T0 + 60_000),
      });
      // Two devices, told apart by their escaped names: fps mean(mean(6, 8), 10) = 8.5.
      assert.deepEqual(
        aggregates.map((a) => ({
          v: a.model_version,
          devices: a.devices,
          samples: a.samples,
          fps: a.fps,
        })),
        [{ v: version, devices: 2, samples: 3, fps: 8.5 }],
      );
    });

    if (engine.name.startsWith('embedded (SQL table)')) {
      it('prunes points older than the retention', async () => {
        const sql = store as SqlTelemetryStore;
        // Retention 7 days, the clock stated: "now" is T0. A point 8 days before it goes; one 6 days
        // before it and the seeded ones (T0 and after) stay.
        await sql.write([
          point('cam-old', '1.0.0', -8 * 86_400, {}, 'dep-old'),
          point('cam-old', '1.0.0', -6 * 86_400, {}, 'dep-old'),
        ]);
        assert.equal(await sql.prune(new Date(T0)), 1);
        const kept = await aggregate(sql, {
          deployment: 'dep-old',
          from: new Date(T0 - 7 * 86_400_000),
          to: new Date(T0),
        });
        assert.equal(kept[0]?.samples, 1);
        const left = await aggregate(sql, {
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

      it('refuses points older than its retention policy, by the server clock', async () => {
        // The clock is influxd's own (its Date header), not this process's: a point 8 days before
        // the server's now is beyond the 7-day policy.
        const ping = await fetch(`${url}/ping`);
        const serverNow = Date.parse(ping.headers.get('date') ?? '');
        assert.ok(Number.isFinite(serverNow), 'influxd answers with a Date header');
        const old = point('cam-old', '1.0.0', 0, {}, 'dep-old');
        old.time = new Date(serverNow - 8 * 86_400_000);
        await assert.rejects(
          store.write([old]),
          (error: unknown) => error instanceof TelemetryRejectedError && error.rejected === 1,
        );
      });

      /** InfluxQL over HTTP, the series of the first result. */
      async function select(q: string): Promise<{ columns: string[]; values: unknown[][] }[]> {
        const params = new URLSearchParams({ db: 'sentinel_test', q });
        const body = (await (await fetch(`${url}/query?${params}`)).json()) as {
          results: { series?: { columns: string[]; values: unknown[][] }[] }[];
        };
        return body.results[0]?.series ?? [];
      }

      async function rawWrite(lines: string): Promise<number> {
        const response = await fetch(
          `${url}/write?db=sentinel_test&rp=${RETENTION_POLICY}&precision=ms`,
          { method: 'POST', body: lines },
        );
        await response.text();
        return response.status;
      }

      it('round-trips string field values with quotes, backslashes and line breaks', async () => {
        const device = String.raw`cam "7" \ x`;
        const text = 'said "stop", then \\ and a\nnew line\\';
        await store.write([point(device, '7.0.0', 10, {}, 'dep-strings')]);
        await store.writeEvents([
          {
            time: new Date(T0 + 1),
            deployment: 'dep-strings',
            type: 'rolled_back',
            environment: 'production',
            text,
            model_version: '7.0.0',
            actor: 'rules',
            groups: 'yard, gate',
          },
        ]);
        const [telemetry] = await select(
          `SELECT "device_id", "device" FROM "${RETENTION_POLICY}"."telemetry" WHERE "deployment" = 'dep-strings'`,
        );
        assert.deepEqual(
          telemetry?.values.map((row) => row.slice(1)),
          [[device, device]],
        );
        const [events] = await select(
          `SELECT "text", "groups" FROM "${RETENTION_POLICY}"."deployment_events" WHERE "deployment" = 'dep-strings'`,
        );
        assert.deepEqual(
          events?.values.map((row) => row.slice(1)),
          [[text, 'yard, gate']],
        );
      });

      it('writes tag values line protocol cannot carry as they stand, instead of failing the batch', async () => {
        // A trailing backslash (no tag value can end with one) and a line break (it would end
        // the line): written as "9.0" and "9.1 rc" rather than refused with HTTP 400.
        await store.write([
          point('cam-9', '9.0\\', 10, {}, 'dep-odd'),
          point('cam-9', '9.0\\', 20, {}, 'dep-odd'),
          point('cam-8', '9.1\nrc', 15, {}, 'dep-odd'),
        ]);
        const aggregates = await aggregate(store, {
          deployment: 'dep-odd',
          from: new Date(T0),
          to: new Date(T0 + 60_000),
        });
        assert.deepEqual(
          aggregates.map((a) => [a.model_version, a.samples]),
          [
            ['9.0', 2],
            ['9.1 rc', 1],
          ],
        );
      });

      it('refuses a field type conflict for good (HTTP 400): the rejected points are counted, the rest stored', async () => {
        // fps arrives as a string first in a shard of its own (3 days on: the shards are a day).
        const later = T0 + 3 * 86_400_000;
        assert.equal(await rawWrite(`telemetry,deployment=dep-conflict fps="fast" ${later}`), 204);
        const conflicting = point('cam-c', '1.0.0', 3 * 86_400, {}, 'dep-conflict');
        const fine = point('cam-c', '1.0.0', 10, {}, 'dep-conflict');
        await assert.rejects(store.write([conflicting, fine]), (error: unknown) => {
          assert.ok(error instanceof TelemetryRejectedError, String(error));
          assert.match(error.message, /HTTP 400/);
          assert.match(error.message, /field type conflict/);
          assert.equal(error.rejected, 1, 'one point refused, the other one stored');
          return true;
        });
        const stored = await aggregate(store, {
          deployment: 'dep-conflict',
          from: new Date(T0),
          to: new Date(T0 + 60_000),
        });
        assert.equal(stored[0]?.samples, 1);
        // Only the conflicting point: the whole batch refused.
        await assert.rejects(
          store.write([conflicting]),
          (error: unknown) => error instanceof TelemetryRejectedError && error.rejected === 1,
        );
      });

      it('reports a missing database as a transient failure (the operator can create it)', async () => {
        const elsewhere = new InfluxTelemetryStore({
          url: url!,
          database: 'never_created',
          retentionDays: 7,
        });
        try {
          await assert.rejects(elsewhere.write([point('cam-x', '1.0.0', 10)]), (error: unknown) => {
            assert.ok(error instanceof Error && !(error instanceof TelemetryRejectedError));
            assert.match(error.message, /HTTP 404.*database not found/);
            return true;
          });
        } finally {
          await elsewhere.close();
        }
      });

      it('reports an unreachable server as a transient failure', async () => {
        // Nothing listens on port 1 of the loopback (below 1024, only root could bind it).
        const nowhere = new InfluxTelemetryStore({
          url: 'http://127.0.0.1:1',
          database: 'sentinel_test',
          retentionDays: 7,
        });
        try {
          await assert.rejects(nowhere.write([point('cam-x', '1.0.0', 10)]), (error: unknown) => {
            assert.ok(error instanceof Error && !(error instanceof TelemetryRejectedError));
            assert.match(error.message, /ECONNREFUSED/);
            return true;
          });
        } finally {
          await nowhere.close();
        }
      });
    }
  });
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
