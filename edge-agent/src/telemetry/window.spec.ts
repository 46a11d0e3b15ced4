import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, TelemetryWindow } from './window.js';
import { checkMessage } from '@sentinel/broker';

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
  });
});
