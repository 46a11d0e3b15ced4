import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, TelemetryWindow, type WindowContext } from './window.js';
import {
  LATENCY_HIST_RELATIVE_ERROR,
  checkMessage,
  histogramCount,
  histogramOf,
  histogramPercentile,
  mergeHistograms,
} from '@sentinel/broker/protocol';
import { seededRandom as rng } from '@sentinel/broker/testing';

const context: WindowContext = {
  deviceId: 'cam-1',
  model: null,
  slot: null,
  deploymentId: null,
  memoryMb: 1,
};

/** |estimate - exact| within the histogram's bound (latencies here are all above 0.05 ms), plus
 * the message's rounding to 0.001 ms. */
function assertClose(estimate: number | null, exact: number, what: string): void {
  assert.ok(estimate !== null, what);
  const bound = exact * LATENCY_HIST_RELATIVE_ERROR + 0.0005 + 1e-9;
  assert.ok(Math.abs(estimate - exact) <= bound, `${what}: ${estimate} vs ${exact}`);
}

describe('percentile (nearest rank)', () => {
  it('picks the value at ceil(p/100 * n)', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    assert.equal(percentile(sorted, 50), 5); // ceil(5) = 5th
    assert.equal(percentile(sorted, 95), 10); // ceil(9.5) = 10th
    assert.equal(percentile([], 95), 0);
  });
});

describe('TelemetryWindow', () => {
  it('turns a window of inferences into a valid telemetry message and starts afresh', () => {
    let now = 1_000_000;
    const window = new TelemetryWindow(() => now);
    for (let i = 1; i <= 100; i++) window.record(i / 10, true); // 0.1 .. 10 ms
    window.record(0, false);
    window.recordQuality(0.8);
    window.recordQuality(0.6);
    now += 2_000;
    const message = window.take({
      deviceId: 'cam-1',
      model: null,
      slot: null,
      deploymentId: null,
      memoryMb: 42.5,
    });
    assert.equal(message.frames, 100);
    assert.equal(message.fps, 50); // 100 frames / 2 s
    assert.equal(message.errors, 1);
    assert.deepEqual(message.latency_ms, { p50: 5, p95: 9.5, max: 10 });
    assert.equal(message.map, 0.7);
    assert.equal(message.window_s, 2);
    // The histogram holds the 100 successful inferences (not the failed one).
    const samples = Array.from({ length: 100 }, (_, i) => (i + 1) / 10);
    assert.deepEqual(message.latency_hist, histogramOf(samples));
    assert.equal(histogramCount(message.latency_hist!), 100);
    assertClose(histogramPercentile(message.latency_hist!, 95), message.latency_ms.p95, 'p95');
    assertClose(histogramPercentile(message.latency_hist!, 50), message.latency_ms.p50, 'p50');
    assert.ok(checkMessage('telemetry', message).ok);

    now += 1_000;
    const next = window.take({
      deviceId: 'cam-1',
      model: null,
      slot: null,
      deploymentId: null,
      memoryMb: 1,
    });
    assert.equal(next.frames, 0);
    assert.equal(next.fps, 0);
    assert.equal(next.map, undefined);
    assert.deepEqual(next.latency_hist, []);
    assert.ok(checkMessage('telemetry', next).ok);
  });

  it("adds a latency histogram whose percentiles agree with the window's own", () => {
    const random = rng(42);
    let now = 0;
    const window = new TelemetryWindow(
      () => now,
      () => random(),
    );
    const windows = [];
    for (let w = 0; w < 4; w++) {
      // A lognormal around 5 ms times 1..4, and a slow tail of 2 %.
      for (let i = 0; i < 3_000; i++) {
        const u = 1 - random();
        const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
        const ms = random() < 0.02 ? 200 + random() * 300 : (w + 1) * 5 * Math.exp(0.4 * z);
        window.record(ms, true);
      }
      now += 10_000;
      const message = window.take(context);
      assert.ok(checkMessage('telemetry', message).ok);
      assert.equal(histogramCount(message.latency_hist!), message.frames);
      assertClose(histogramPercentile(message.latency_hist!, 95), message.latency_ms.p95, 'p95');
      assertClose(histogramPercentile(message.latency_hist!, 50), message.latency_ms.p50, 'p50');
      assert.ok(JSON.stringify(message.latency_hist).length < 600);
      windows.push(message);
    }
    // The hub's view: one histogram for the four windows, its count every inference.
    const fleet = mergeHistograms(windows.map((m) => m.latency_hist!));
    assert.equal(histogramCount(fleet), 12_000);
  });

  it('counts every inference in the histogram, also past the reservoir size', () => {
    let now = 0;
    const window = new TelemetryWindow(() => now);
    for (let i = 0; i < 25_000; i++) window.record(i % 2 === 0 ? 3 : 30, true);
    now += 10_000;
    const message = window.take(context);
    assert.equal(message.frames, 25_000);
    assert.deepEqual(
      message.latency_hist,
      histogramOf([3, 30]).map(([b]) => [b, 12_500]),
    );
    assert.ok(checkMessage('telemetry', message).ok);
  });
});
