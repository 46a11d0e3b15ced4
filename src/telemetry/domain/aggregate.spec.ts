import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  histogramOf,
  LATENCY_HIST_RELATIVE_ERROR,
  mergeHistograms,
  type LatencyHistogram,
} from '@sentinel/broker';
import type { DeviceAggregate } from '../telemetry-store.js';
import { byVersion, DeviceAccumulator, fleetPercentile, versionOf } from './aggregate.js';
import { exactPercentile, seededRandom as prng } from '@sentinel/broker/testing';
import { latencies } from '../../../test/support/latency-samples.js';

interface Fleet {
  rows: DeviceAggregate[];
  samples: number[];
  windows: LatencyHistogram[];
}

/**
 * Devices of one version, each sending `windows` telemetry windows of a different number of
 * inferences around its own median: the DeviceAccumulator rows (as the cache builds them), every
 * raw latency, and every window's histogram.
 */
function fleet(seed: number, devices: { median: number; frames: number }[], windows = 5): Fleet {
  const random = prng(seed);
  const out: Fleet = { rows: [], samples: [], windows: [] };
  devices.forEach((device, i) => {
    const acc = new DeviceAccumulator(`cam-${i}`, '2.0.0');
    for (let w = 0; w < windows; w++) {
      const raw = latencies(random, device.frames, device.median);
      const hist = histogramOf(raw);
      out.samples.push(...raw);
      out.windows.push(hist);
      acc.add({
        fps: device.frames / 10,
        latency_p95: exactPercentile(raw, 95),
        memory_mb: 100,
        frames: device.frames,
        errors: 0,
        latency_hist: hist,
      });
    }
    out.rows.push(acc.row());
  });
  return out;
}

const within = (answer: number, exact: number, what: string) =>
  assert.ok(
    Math.abs(answer - exact) <= exact * LATENCY_HIST_RELATIVE_ERROR,
    `${what}: ${answer} vs exact ${exact} (bound ${LATENCY_HIST_RELATIVE_ERROR})`,
  );

describe('fleet p95 from merged latency histograms', () => {
  const SHAPE = [
    { median: 8, frames: 300 },
    { median: 20, frames: 120 },
    { median: 3, frames: 600 },
  ];

  it("is the percentile of all the fleet's inferences, within the histogram's error bound", () => {
    const { rows, samples } = fleet(1, SHAPE);
    const version = versionOf('2.0.0', rows)!;
    const exact = exactPercentile(samples, 95);
    within(version.latency_p95_fleet!, exact, 'fleet p95');
    // The mean of the windows' p95 is another figure altogether on such a fleet.
    assert.ok(
      Math.abs(version.latency_p95 - exact) > exact * LATENCY_HIST_RELATIVE_ERROR,
      `mean of p95s ${version.latency_p95} vs ${exact}`,
    );
  });

  it('holds over 200 seeded fleets, for p50, p95 and p99', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const { rows, samples } = fleet(seed, SHAPE, 3);
      for (const p of [50, 95, 99]) {
        within(fleetPercentile(rows, p)!, exactPercentile(samples, p), `seed ${seed} p${p}`);
      }
    }
  });

  it("merges each device's windows into its row, and the rows into the version", () => {
    const { rows, windows } = fleet(7, SHAPE);
    assert.deepEqual(mergeHistograms(rows.map((r) => r.latency_hist!)), mergeHistograms(windows));
    assert.deepEqual(rows[0]!.latency_hist, mergeHistograms(windows.slice(0, 5)));
  });

  it('is null when no device sent a histogram, or they hold no inference', () => {
    const acc = new DeviceAccumulator('cam-old', '1.0.0');
    acc.add({ fps: 10, latency_p95: 9, memory_mb: 100, frames: 100, errors: 0 });
    const old = acc.row();
    assert.equal(old.latency_hist, null);
    assert.equal(versionOf('1.0.0', [old])!.latency_p95_fleet, null);
    // A store's row without the field at all (absent, not null).
    const { latency_hist: _absent, ...bare } = old;
    assert.equal(versionOf('1.0.0', [bare])!.latency_p95_fleet, null);
    assert.equal(versionOf('1.0.0', [{ ...old, latency_hist: [] }])!.latency_p95_fleet, null);
  });

  it('counts only the devices that sent one when the fleet is mixed', () => {
    const { rows, samples } = fleet(3, [{ median: 8, frames: 300 }]);
    const acc = new DeviceAccumulator('cam-old', '2.0.0');
    acc.add({ fps: 10, latency_p95: 500, memory_mb: 100, frames: 100, errors: 0 });
    const [version] = byVersion([...rows, acc.row()]);
    assert.equal(version!.devices, 2);
    within(version!.latency_p95_fleet!, exactPercentile(samples, 95), 'fleet p95');
  });
});
