// The telemetry stores' contract for series over time (GET /api/v1/telemetry), on every engine:
// epoch-aligned buckets with means, sums and window counts, empty buckets left out, by model
// version or by device, filters that must all match, series in one order whatever the engine.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Series } from '../src/telemetry/domain/telemetry-query.js';
import type {
  SeriesQuery,
  TelemetryPoint,
  TelemetryStore,
} from '../src/telemetry/telemetry-store.js';
import { T0, telemetryPoint } from './support/telemetry-points.js';
import { ENGINES, type OpenEngine } from './support/telemetry-engines.js';

/** A point of the fixtures: `telemetryPoint` with another group when given. */
function point(
  device: string,
  version: string,
  seconds: number,
  fields: Partial<TelemetryPoint> = {},
  deployment = 'dep-s1',
  group = 'yard',
): TelemetryPoint {
  const p = telemetryPoint(device, version, seconds, fields, deployment);
  p.tags.group = group;
  return p;
}

// Quotes and backslashes in a filter value must neither break the query nor widen it.
const ODD_DEPLOYMENT = String.raw`dep "x" \ 'q' OR 1=1`;

const FIXTURES: TelemetryPoint[] = [
  // v1, bucket T0..T0+30: cam-a twice (one with mAP), cam-b of another group and deployment.
  point('cam-a', '1.0.0', 5, {
    fps: 10,
    latency_p50: 4,
    latency_p95: 8,
    memory_mb: 100,
    frames: 100,
    errors: 1,
  }),
  point('cam-a', '1.0.0', 25, {
    fps: 20,
    latency_p50: 6,
    latency_p95: 12,
    memory_mb: 120,
    frames: 200,
    errors: 0,
    map: 0.5,
  }),
  point(
    'cam-b',
    '1.0.0',
    15,
    { fps: 30, latency_p50: 8, latency_p95: 16, memory_mb: 140, frames: 300, errors: 2 },
    'dep-s2',
    'gate',
  ),
  // v1, bucket T0+60..T0+90 (T0+30..T0+60 has none of v1).
  point('cam-a', '1.0.0', 65, { fps: 12, frames: 120, errors: 0 }),
  // v2, bucket T0+30..T0+60.
  point('cam-c', '2.0.0', 35, { fps: 5, frames: 50, errors: 5, map: 0.25 }),
  // Outside the range [T0, T0+120 s): before it, and at its end.
  point('cam-a', '1.0.0', -5, { fps: 999 }),
  point('cam-a', '1.0.0', 120, { fps: 999 }),
  // A deployment id with quotes and a backslash, on v3.
  point('cam-d', '3.0.0', 45, { fps: 7 }, ODD_DEPLOYMENT),
];

const RANGE = { from: new Date(T0), to: new Date(T0 + 120_000) };

/** A series as compared: times as seconds after T0, figures rounded. */
function brief(series: Series[]) {
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return series.map((s) => ({
    model_version: s.model_version,
    device: s.device,
    points: s.points.map((p) => ({
      t: (p.time.getTime() - T0) / 1000,
      windows: p.windows,
      frames: p.frames,
      fps: r(p.fps),
      latency_p50: r(p.latency_p50),
      latency_p95: r(p.latency_p95),
      memory_mb: r(p.memory_mb),
      errors: p.errors,
      map: p.map === null ? null : r(p.map),
    })),
  }));
}

for (const engine of ENGINES) {
  describe(
    `telemetry store contract, series over time: ${engine.name}`,
    { skip: engine.skip },
    () => {
      let opened: OpenEngine;
      let store: TelemetryStore;
      const query = (q: Partial<SeriesQuery>) =>
        store.querySeries({ ...RANGE, stepS: 30, by: 'model_version', ...q });

      before(async () => {
        opened = await engine.open();
        store = opened.store;
        await store.init();
        await store.write(FIXTURES);
      });
      after(async () => {
        await opened?.close();
      });

      it('buckets by model version: means, sums and window counts, empty buckets left out', async () => {
        assert.deepEqual(brief(await query({})), [
          {
            model_version: 'id-1.0.0',
            device: null,
            points: [
              // fps mean(10, 20, 30); p50 mean(4, 6, 8); p95 mean(8, 12, 16); memory mean(100, 120,
              // 140); frames and errors summed; mAP: the one window with it.
              {
                t: 0,
                windows: 3,
                frames: 600,
                fps: 20,
                latency_p50: 6,
                latency_p95: 12,
                memory_mb: 120,
                errors: 3,
                map: 0.5,
              },
              {
                t: 60,
                windows: 1,
                frames: 120,
                fps: 12,
                latency_p50: 5,
                latency_p95: 9,
                memory_mb: 100,
                errors: 0,
                map: null,
              },
            ],
          },
          {
            model_version: 'id-2.0.0',
            device: null,
            points: [
              {
                t: 30,
                windows: 1,
                frames: 50,
                fps: 5,
                latency_p50: 5,
                latency_p95: 9,
                memory_mb: 100,
                errors: 5,
                map: 0.25,
              },
            ],
          },
          {
            model_version: 'id-3.0.0',
            device: null,
            points: [
              {
                t: 30,
                windows: 1,
                frames: 100,
                fps: 7,
                latency_p50: 5,
                latency_p95: 9,
                memory_mb: 100,
                errors: 0,
                map: null,
              },
            ],
          },
        ]);
      });

      it('gives a series per device and model version with by=device, sorted', async () => {
        const series = await query({ by: 'device' });
        assert.deepEqual(
          series.map((s) => [s.model_version, s.device, s.points.map((p) => p.windows)]),
          [
            ['id-1.0.0', 'cam-a', [2, 1]],
            ['id-1.0.0', 'cam-b', [1]],
            ['id-2.0.0', 'cam-c', [1]],
            ['id-3.0.0', 'cam-d', [1]],
          ],
        );
        assert.deepEqual(
          series[0]!.points.map((p) => [(p.time.getTime() - T0) / 1000, p.fps, p.frames]),
          [
            [0, 15, 300],
            [60, 12, 120],
          ],
        );
      });

      it('filters by device, model version, deployment and group, all of them together', async () => {
        const versions = async (q: Partial<SeriesQuery>) =>
          (await query({ ...q, by: 'device' })).map((s) => `${s.device}@${s.model_version}`);
        assert.deepEqual(await versions({ device: 'cam-a' }), ['cam-a@id-1.0.0']);
        assert.deepEqual(await versions({ modelVersion: 'id-2.0.0' }), ['cam-c@id-2.0.0']);
        assert.deepEqual(await versions({ deployment: 'dep-s2' }), ['cam-b@id-1.0.0']);
        assert.deepEqual(await versions({ group: 'gate' }), ['cam-b@id-1.0.0']);
        assert.deepEqual(await versions({ group: 'yard', modelVersion: 'id-1.0.0' }), [
          'cam-a@id-1.0.0',
        ]);
        assert.deepEqual(await versions({ device: 'cam-a', group: 'gate' }), []);
        assert.deepEqual(await versions({ device: 'nobody' }), []);
        assert.deepEqual(await versions({ deployment: ODD_DEPLOYMENT }), ['cam-d@id-3.0.0']);
        // The quote does not end the literal: nothing matches a prefix of the value.
        assert.deepEqual(await versions({ deployment: String.raw`dep "x" \ ` }), []);
      });

      it('aligns buckets to the Unix epoch, counting only points inside the range', async () => {
        // From T0+10 s in 60 s buckets: the first bucket starts at T0 but holds the points from
        // T0+10 s on (cam-b at 15 s, cam-a at 25 s), not cam-a's at 5 s.
        const series = await query({
          from: new Date(T0 + 10_000),
          modelVersion: 'id-1.0.0',
          stepS: 60,
        });
        assert.deepEqual(
          series[0]!.points.map((p) => [(p.time.getTime() - T0) / 1000, p.windows, p.fps]),
          [
            [0, 2, 25],
            [60, 1, 12],
          ],
        );
        // A day's bucket starts at midnight UTC.
        const day = await query({ stepS: 86_400, modelVersion: 'id-2.0.0' });
        assert.deepEqual(
          day[0]!.points.map((p) => p.time.getTime()),
          [Math.floor(T0 / 86_400_000) * 86_400_000],
        );
      });

      it('answers an empty range with no series', async () => {
        assert.deepEqual(
          await query({ from: new Date(T0 - 3_600_000), to: new Date(T0 - 60_000) }),
          [],
        );
      });
    },
  );
}
