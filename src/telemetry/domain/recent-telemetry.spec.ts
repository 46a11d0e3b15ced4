import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { T0, telemetryPoint as point } from '../../../test/support/telemetry-points.js';
import { byVersion } from './aggregate.js';
import { RecentTelemetry } from './recent-telemetry.js';

const window = (from: number, to: number, deployment = 'dep-1') => ({
  deployment,
  from: new Date(T0 + from * 1000),
  to: new Date(T0 + to * 1000),
});

describe('RecentTelemetry', () => {
  it('aggregates like the stores: per device first, then over devices', () => {
    const recent = new RecentTelemetry({ spanMs: 180_000, since: T0 });
    recent.add([
      point('cam-a', '1.0.0', 10, { fps: 10, frames: 100, errors: 1 }),
      point('cam-a', '1.0.0', 20, { fps: 20, frames: 200, map: 0.5 }),
      point('cam-b', '1.0.0', 15, { fps: 30, frames: 300, errors: 2 }),
      point('cam-c', '2.0.0', 15, { fps: 5, frames: 50 }),
      point('cam-a', '1.0.0', 15, { fps: 999 }, 'dep-2'),
    ]);
    const [v1, v2] = byVersion(recent.aggregate(window(0, 60), T0 + 60_000)!);
    // fps: mean(cam-a mean(10, 20) = 15, cam-b 30) = 22.5; mAP only from cam-a's one report.
    const { spread, ...means } = v1!;
    assert.deepEqual(means, {
      model_version: '1.0.0',
      devices: 2,
      samples: 3,
      fps: 22.5,
      latency_p95: 9,
      latency_p95_fleet: null,
      memory_mb: 100,
      frames: 600,
      errors: 3,
      map: 0.5,
    });
    // Over the 3 windows (10, 20, 30): mean 20, sd 10; over the 2 devices' means (15, 30): sd 10.61.
    assert.deepEqual(spread.fps.windows, { n: 3, mean: 20, sd: 10 });
    assert.equal(spread.fps.devices.n, 2);
    assert.equal(Math.round(spread.fps.devices.sd * 100) / 100, 10.61);
    assert.equal(v2!.model_version, '2.0.0');
    assert.equal(v2!.fps, 5);
    assert.equal(v2!.map, null);
  });

  it("keeps the points' latency histograms and merges them per device", () => {
    const recent = new RecentTelemetry({ spanMs: 60_000, since: T0 });
    recent.add([
      point('cam-a', '1.0.0', 10, { latency_hist: [[52, 3]] }),
      point('cam-a', '1.0.0', 20, {
        latency_hist: [
          [53, 2],
          [52, 1],
        ],
      }),
      point('cam-a', '1.0.0', 25), // an older agent's window: no histogram
      point('cam-b', '1.0.0', 15),
    ]);
    const rows = recent.aggregate(window(0, 60), T0 + 60_000)!;
    const row = (device: string) => rows.find((r) => r.device === device)!;
    assert.deepEqual(row('cam-a').latency_hist, [
      [52, 4],
      [53, 2],
    ]);
    assert.equal(row('cam-a').samples, 3);
    assert.equal(row('cam-b').latency_hist, null);
  });

  it('counts a point from the start of the window, not at its end', () => {
    const recent = new RecentTelemetry({ spanMs: 180_000, since: T0 });
    recent.add([point('cam-a', '1.0.0', 10), point('cam-b', '1.0.0', 20)]);
    assert.equal(recent.aggregate(window(10, 20), T0 + 30_000)!.length, 1);
    assert.deepEqual(recent.aggregate(window(11, 20), T0 + 30_000), []);
  });

  it('does not answer a window starting before the cache began or beyond its span', () => {
    const recent = new RecentTelemetry({ spanMs: 60_000, since: T0 + 5_000 });
    recent.add([point('cam-a', '1.0.0', 10)]);
    assert.equal(recent.aggregate(window(0, 20), T0 + 20_000), null, 'before it began');
    assert.notEqual(recent.aggregate(window(5, 20), T0 + 20_000), null);
    // 100 s later, a window from 10 s reaches 90 s back: more than the 60 s span.
    assert.equal(recent.aggregate(window(10, 110), T0 + 100_000), null, 'beyond the span');
  });

  it('keeps no points from before it began', () => {
    const recent = new RecentTelemetry({ spanMs: 60_000, since: T0 });
    recent.add([point('cam-a', '1.0.0', -1)]);
    assert.equal(recent.size, 0);
  });

  it('answers a window of whole groups, whatever deployment their devices followed', () => {
    const recent = new RecentTelemetry({ spanMs: 60_000, since: T0 });
    recent.add([
      point('cam-a', '1.0.0', 10, { fps: 10 }, 'none'),
      point('cam-b', '1.0.0', 10, { fps: 20 }, 'dep-old'),
      {
        ...point('cam-c', '1.0.0', 10, { fps: 99 }),
        tags: { ...point('cam-c', '1.0.0', 10).tags, group: 'gate' },
      },
    ]);
    const rows = recent.aggregate(
      { groups: ['yard'], from: new Date(T0), to: new Date(T0 + 20_000) },
      T0 + 20_000,
    )!;
    assert.deepEqual(rows.map((r) => r.device).sort(), ['cam-a', 'cam-b']);
  });

  it('forgets points older than the span, also when they arrive out of order', () => {
    const recent = new RecentTelemetry({ spanMs: 60_000, since: T0 });
    recent.add([
      point('cam-a', '1.0.0', 10),
      point('cam-b', '1.0.0', 50),
      point('cam-c', '1.0.0', 20), // late
      point('cam-d', '1.0.0', 30, {}, 'dep-2'),
    ]);
    recent.prune(T0 + 85_000); // cutoff 25 s
    // cam-a goes; cam-c (20 s) sits behind cam-b and waits for a later prune, but is never counted.
    assert.equal(recent.size, 3);
    assert.deepEqual(
      recent.aggregate(window(25, 90), T0 + 85_000)!.map((r) => r.device),
      ['cam-b'],
    );
    recent.prune(T0 + 200_000);
    assert.equal(recent.size, 0);
  });
});
