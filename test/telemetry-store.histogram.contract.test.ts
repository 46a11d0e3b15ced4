// The telemetry stores' contract for latency histograms (latency_hist), on every engine: each
// window's histogram is kept with its point, a device's row carries the merge of its windows' ones
// (null when none had one), and a version's fleet p95 is the percentile of all its inferences.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  histogramOf,
  histogramPercentile,
  LATENCY_HIST_RELATIVE_ERROR,
  mergeHistograms,
  type LatencyHistogram,
} from '@sentinel/broker';
import { RETENTION_POLICY } from '../src/telemetry/influx-telemetry-store.js';
import type { DeviceAggregate, TelemetryStore } from '../src/telemetry/telemetry-store.js';
import { T0, telemetryPoint as point } from './support/telemetry-points.js';
import { aggregate, ENGINES, type OpenEngine } from './support/telemetry-engines.js';
import { exactPercentile, seededRandom as prng } from '@sentinel/broker/testing';
import { latencies } from './support/latency-samples.js';

const random = prng(42);
// Raw latencies of four windows: cam-h1 sends A and B (and one window without a histogram),
// cam-h2 sends C; D is cam-h1's window of another deployment of the same group.
const RAW = {
  A: latencies(random, 400, 8),
  B: latencies(random, 250, 12),
  C: latencies(random, 600, 4),
  D: latencies(random, 100, 30),
};
const HIST = {
  A: histogramOf(RAW.A),
  B: histogramOf(RAW.B),
  C: histogramOf(RAW.C),
  D: histogramOf(RAW.D),
};
/** As an agent may send it: any order, a repeated bucket adds up. */
const UNSORTED: LatencyHistogram = [
  [60, 2],
  [50, 1],
  [60, 3],
];

const WINDOW = { from: new Date(T0), to: new Date(T0 + 60_000) };

for (const engine of ENGINES) {
  describe(
    `telemetry store contract, latency histograms: ${engine.name}`,
    {
      skip: engine.skip,
    },
    () => {
      let opened: OpenEngine;
      let store: TelemetryStore;

      before(async () => {
        opened = await engine.open();
        store = opened.store;
        await store.init();
        await store.write([
          point('cam-h1', '2.0.0', 10, { latency_hist: HIST.A }, 'dep-hist'),
          point('cam-h1', '2.0.0', 20, { latency_hist: HIST.B }, 'dep-hist'),
          point('cam-h1', '2.0.0', 30, {}, 'dep-hist'), // no histogram (an older agent)
          point('cam-h2', '2.0.0', 15, { latency_hist: HIST.C }, 'dep-hist'),
          point('cam-h3', '2.0.0', 15, {}, 'dep-hist'),
          point('cam-h4', '1.0.0', 15, {}, 'dep-hist'),
          point('cam-h5', '3.0.0', 15, { latency_hist: UNSORTED }, 'dep-hist'),
          point('cam-h6', '3.0.0', 15, { latency_hist: [] }, 'dep-hist'),
          // Another deployment of the group, and a window past the range: not in dep-hist's rows.
          point('cam-h1', '2.0.0', 12, { latency_hist: HIST.D }, 'dep-other'),
          point('cam-h1', '2.0.0', 100, { latency_hist: [[140, 9]] }, 'dep-hist'),
        ]);
      });
      after(async () => {
        await opened.close();
      });

      const rowsOf = async (query: Parameters<TelemetryStore['aggregateByDevice']>[0]) => {
        const rows = await store.aggregateByDevice(query);
        return (device: string): DeviceAggregate => {
          const row = rows.find((r) => r.device === device);
          assert.ok(row, `a row for ${device}`);
          return row;
        };
      };

      it("gives each device the merge of its windows' histograms, null when none had one", async () => {
        const row = await rowsOf({ deployment: 'dep-hist', ...WINDOW });
        assert.equal(row('cam-h1').samples, 3);
        assert.deepEqual(row('cam-h1').latency_hist, mergeHistograms([HIST.A, HIST.B]));
        assert.deepEqual(row('cam-h2').latency_hist, HIST.C);
        assert.equal(row('cam-h3').latency_hist, null);
        assert.equal(row('cam-h4').latency_hist, null);
        // Read back as sent and merged into canonical form.
        assert.deepEqual(row('cam-h5').latency_hist, [
          [50, 1],
          [60, 5],
        ]);
        assert.deepEqual(row('cam-h6').latency_hist, []);
      });

      it("gives the version's fleet p95 of all its inferences (null without histograms)", async () => {
        const versions = await aggregate(store, { deployment: 'dep-hist', ...WINDOW });
        const version = (v: string) => versions.find((a) => a.model_version === v)!;
        const fleet = version('2.0.0').latency_p95_fleet;
        assert.equal(fleet, histogramPercentile(mergeHistograms([HIST.A, HIST.B, HIST.C]), 95));
        const exact = exactPercentile([...RAW.A, ...RAW.B, ...RAW.C], 95);
        assert.ok(
          Math.abs(fleet! - exact) <= exact * LATENCY_HIST_RELATIVE_ERROR,
          `fleet p95 ${fleet} vs exact ${exact}`,
        );
        assert.equal(version('2.0.0').devices, 3); // cam-h3 counts for the other figures
        assert.equal(version('1.0.0').latency_p95_fleet, null);
        assert.equal(version('3.0.0').latency_p95_fleet, histogramPercentile(UNSORTED, 95));
      });

      it('merges the histograms of a whole group over every deployment', async () => {
        const row = await rowsOf({ groups: ['yard'], ...WINDOW });
        assert.equal(row('cam-h1').samples, 4);
        assert.deepEqual(row('cam-h1').latency_hist, mergeHistograms([HIST.A, HIST.B, HIST.D]));
        const [version] = await aggregate(store, { groups: ['gate'], ...WINDOW });
        assert.equal(version, undefined);
      });

      if (engine.name === 'InfluxDB') {
        it('stores a histogram as the string field latency_hist: its compact JSON, as sent', async () => {
          const q = `SELECT "latency_hist" FROM "${RETENTION_POLICY}"."telemetry" WHERE "deployment" = 'dep-hist' AND ("device" = 'cam-h5' OR "device" = 'cam-h3')`;
          const params = new URLSearchParams({ db: 'sentinel_test', q });
          const body = (await (await fetch(`${opened.url}/query?${params}`)).json()) as {
            results: { series?: { values: unknown[][] }[] }[];
          };
          // cam-h3's point has no such field: only cam-h5's comes back.
          assert.deepEqual(
            body.results[0]?.series?.[0]?.values.map((row) => row[1]),
            ['[[60,2],[50,1],[60,3]]'],
          );
        });
      }

      if (engine.name.startsWith('embedded (SQL table)')) {
        it('stores a histogram in the jsonb column latency_hist, as sent; NULL without one', async () => {
          const rows: { device: string; hist: unknown; type: string | null }[] =
            await opened.dataSource!.query(
              `SELECT device, latency_hist AS hist, jsonb_typeof(latency_hist) AS type
               FROM telemetry_points WHERE deployment = 'dep-hist' AND device IN ('cam-h3', 'cam-h5')
              ORDER BY device`,
            );
          assert.deepEqual(rows, [
            { device: 'cam-h3', hist: null, type: null },
            { device: 'cam-h5', hist: UNSORTED, type: 'array' },
          ]);
        });
      }
    },
  );
}
