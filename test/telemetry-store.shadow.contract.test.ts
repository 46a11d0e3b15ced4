// The telemetry stores' contract for shadow verification (the telemetry's `shadow` block), on every
// engine: a window's shadow block is kept with its point (sparse: nothing for windows without one),
// and aggregateShadow gives per device and candidate version the sums and the mean and sample sd of
// the windows where the candidate ran samples. Expected figures worked out by hand below.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RETENTION_POLICY } from '../src/telemetry/influx-telemetry-store.js';
import type {
  ShadowDeviceAggregate,
  ShadowPoint,
  TelemetryStore,
} from '../src/telemetry/telemetry-store.js';
import { T0, telemetryPoint as point } from './support/telemetry-points.js';
import { ENGINES, type OpenEngine } from './support/telemetry-engines.js';

const WINDOW = { from: new Date(T0), to: new Date(T0 + 60_000) };

/** A shadow block of `version` (candidate) in dep-shadow. */
const shadow = (
  version: string,
  figures: Partial<ShadowPoint> & Pick<ShadowPoint, 'samples'>,
): ShadowPoint => ({
  deployment: 'dep-shadow',
  model_id: `id-${version}`,
  model_version: version,
  comparison: 'top1',
  dropped: 0,
  errors: 0,
  ...figures,
});

/** A window of `device` serving 1.0.0 in dep-shadow, with a shadow block or none. */
const served = (device: string, seconds: number, block?: ShadowPoint) =>
  point(device, '1.0.0', seconds, block ? { shadow: block } : {}, 'dep-shadow');

const near = (actual: number | null, expected: number, what: string) =>
  assert.ok(
    actual !== null && Math.abs(actual - expected) < 1e-9,
    `${what}: ${actual} != ${expected}`,
  );

for (const engine of ENGINES) {
  describe(`telemetry store contract, shadow: ${engine.name}`, { skip: engine.skip }, () => {
    let opened: OpenEngine;
    let store: TelemetryStore;

    before(async () => {
      opened = await engine.open();
      store = opened.store;
      await store.init();
      const full = (p95: number, active: number, agreement: number) => ({
        latency_p50: p95 / 2,
        latency_p95: p95,
        active_latency_p50: active / 2,
        active_latency_p95: active,
        agreement,
      });
      await store.write([
        // cam-s1 shadows 2.0.0 in three windows with samples:
        //   samples 10+20+30 = 60, dropped 1+0+3 = 4, errors 0+2+1 = 3;
        //   p95 20, 24, 22 -> mean 22, sd sqrt((4+4+0)/2) = 2;
        //   active p95 10, 12, 14 -> mean 12, sd 2; agreement 0.9, 1, 0.8 -> mean 0.9, sd 0.1.
        served('cam-s1', 10, shadow('2.0.0', { samples: 10, dropped: 1, ...full(20, 10, 0.9) })),
        served('cam-s1', 20, shadow('2.0.0', { samples: 20, errors: 2, ...full(24, 12, 1) })),
        served(
          'cam-s1',
          30,
          shadow('2.0.0', { samples: 30, dropped: 3, errors: 1, ...full(22, 14, 0.8) }),
        ),
        // A window where the candidate ran nothing (all dropped or failed): not counted.
        served('cam-s1', 40, shadow('2.0.0', { samples: 0, dropped: 5, errors: 4 })),
        // A later candidate: a row of its own, one window (sd 0).
        served('cam-s1', 45, shadow('2.1.0', { samples: 5, ...full(30, 11, 0.5) })),
        // No shadow block (an older agent, or outside the shadow phase): not counted.
        served('cam-s1', 50),
        // cam-s2: one window without agreement (figures are averaged over the windows that carry
        // them): p95 18, 26 -> mean 22, sd sqrt(32); active 9, 13 -> mean 11, sd sqrt(8);
        // agreement 0.7 alone -> sd 0.
        served(
          'cam-s2',
          15,
          shadow('2.0.0', { samples: 8, latency_p95: 18, active_latency_p95: 9 }),
        ),
        served('cam-s2', 25, shadow('2.0.0', { samples: 4, ...full(26, 13, 0.7) })),
        // Another deployment and a window past the range: never counted.
        point('cam-s1', '1.0.0', 15, { shadow: shadow('2.0.0', { samples: 99 }) }, 'dep-other'),
        served('cam-s1', 100, shadow('2.0.0', { samples: 99, ...full(99, 99, 0) })),
      ]);
    });
    after(async () => {
      await opened.close();
    });

    const rows = () => store.aggregateShadow({ deployment: 'dep-shadow', ...WINDOW });

    it('gives one row per device and candidate version, sorted', async () => {
      assert.deepEqual(
        (await rows()).map((r) => [r.device, r.model_version, r.model_id, r.comparison, r.windows]),
        [
          ['cam-s1', '2.0.0', 'id-2.0.0', 'top1', 3],
          ['cam-s1', '2.1.0', 'id-2.1.0', 'top1', 1],
          ['cam-s2', '2.0.0', 'id-2.0.0', 'top1', 2],
        ],
      );
    });

    it('sums the counts and gives mean and sample sd of the windows with samples', async () => {
      const [s1, later, s2] = (await rows()) as [
        ShadowDeviceAggregate,
        ShadowDeviceAggregate,
        ShadowDeviceAggregate,
      ];
      assert.deepEqual([s1.samples, s1.dropped, s1.errors], [60, 4, 3]);
      near(s1.latency_p95, 22, 'p95');
      near(s1.latency_p95_sd, 2, 'p95 sd');
      near(s1.active_latency_p95, 12, 'active p95');
      near(s1.active_latency_p95_sd, 2, 'active p95 sd');
      near(s1.agreement, 0.9, 'agreement');
      near(s1.agreement_sd, 0.1, 'agreement sd');

      assert.deepEqual([later.samples, later.dropped, later.errors], [5, 0, 0]);
      near(later.latency_p95, 30, 'p95');
      near(later.agreement, 0.5, 'agreement');
      assert.deepEqual(
        [later.latency_p95_sd, later.active_latency_p95_sd, later.agreement_sd],
        [0, 0, 0],
      );

      assert.deepEqual([s2.samples, s2.dropped, s2.errors], [12, 0, 0]);
      near(s2.latency_p95, 22, 'p95');
      near(s2.latency_p95_sd, Math.sqrt(32), 'p95 sd');
      near(s2.active_latency_p95, 11, 'active p95');
      near(s2.active_latency_p95_sd, Math.sqrt(8), 'active p95 sd');
      near(s2.agreement, 0.7, 'agreement');
      assert.equal(s2.agreement_sd, 0);
    });

    it('has no rows for a deployment or a range without shadow windows', async () => {
      assert.deepEqual(await store.aggregateShadow({ deployment: 'dep-none', ...WINDOW }), []);
      const later = { from: new Date(T0 + 200_000), to: new Date(T0 + 300_000) };
      assert.deepEqual(await store.aggregateShadow({ deployment: 'dep-shadow', ...later }), []);
    });

    it('counts windows with a shadow block like any other in the main figures', async () => {
      const main = await store.aggregateByDevice({ deployment: 'dep-shadow', ...WINDOW });
      const s1 = main.find((r) => r.device === 'cam-s1' && r.model_version === '1.0.0');
      assert.equal(s1?.samples, 6);
      assert.equal(s1?.fps, 10);
    });

    if (engine.name === 'InfluxDB') {
      it('stores the block as shadow_* fields of the same point, none without one', async () => {
        const q = `SELECT "shadow_model_version", "shadow_samples", "shadow_agreement", "fps"
                     FROM "${RETENTION_POLICY}"."telemetry"
                    WHERE "deployment" = 'dep-shadow' AND "device" = 'cam-s1' AND time >= '${new Date(T0 + 40_000).toISOString()}'
                      AND time <= '${new Date(T0 + 50_000).toISOString()}'`;
        const params = new URLSearchParams({ db: 'sentinel_test', q });
        const body = (await (await fetch(`${opened.url}/query?${params}`)).json()) as {
          results: { series?: { values: unknown[][] }[] }[];
        };
        assert.deepEqual(
          body.results[0]?.series?.[0]?.values.map((row) => row.slice(1)),
          [
            ['2.0.0', 0, null, 10],
            ['2.1.0', 5, 0.5, 10],
            [null, null, null, 10],
          ],
        );
      });
    }

    if (engine.name.startsWith('embedded (SQL table)')) {
      it('stores the block in the shadow_* columns, NULL without one', async () => {
        const stored: Record<string, unknown>[] = await opened.dataSource!.query(
          `SELECT shadow_model_version AS version, shadow_samples AS samples, shadow_dropped AS dropped,
                  shadow_latency_p50 AS p50, shadow_agreement AS agreement
             FROM telemetry_points
            WHERE deployment = 'dep-shadow' AND device = 'cam-s1'
              AND time >= $1 AND time <= $2
            ORDER BY time`,
          [new Date(T0 + 40_000).toISOString(), new Date(T0 + 50_000).toISOString()],
        );
        assert.deepEqual(stored, [
          { version: '2.0.0', samples: 0, dropped: 5, p50: null, agreement: null },
          { version: '2.1.0', samples: 5, dropped: 0, p50: 15, agreement: 0.5 },
          { version: null, samples: null, dropped: null, p50: null, agreement: null },
        ]);
      });
    }
  });
}
