import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, type Telemetry } from '@sentinel/broker';
import { toPoint } from './telemetry-point.js';

const message = (extra: Record<string, unknown> = {}) =>
  Buffer.from(
    JSON.stringify({
      device_id: 'cam-1',
      ts: '2026-11-29T10:00:10.000Z',
      window_s: 10,
      frames: 300,
      fps: 30,
      latency_ms: { p50: 8, p95: 12.5, max: 30 },
      memory_mb: 210,
      errors: 0,
      model_id: 'm-1',
      model_version: '1.4.0',
      slot: 'blue',
      deployment_id: 'dep-1',
      ...extra,
    }),
  );

function parsed(extra?: Record<string, unknown>): Telemetry {
  const result = parseMessage('telemetry', message(extra));
  assert.ok(result.ok, JSON.stringify(result));
  return result.value;
}

describe('toPoint', () => {
  it('passes the latency histogram through when the message has one', () => {
    const hist = [
      [52, 3],
      [53, 41],
    ];
    const point = toPoint(parsed({ latency_hist: hist }), { group: 'yard', environment: 'prod' });
    assert.deepEqual(point.latency_hist, hist);
    assert.equal(point.latency_p95, 12.5);
    assert.equal(point.tags.group, 'yard');
  });

  it('leaves it out for an older agent that sends none', () => {
    const point = toPoint(parsed(), undefined);
    assert.equal('latency_hist' in point, false);
    assert.equal(point.latency_p95, 12.5);
    assert.equal(point.tags.group, 'unknown');
  });

  it('carries a shadow block, with the latencies and agreement the window has', () => {
    const block = {
      deployment_id: 'dep-1',
      model_id: 'm-2',
      model_version: '1.5.0',
      comparison: 'cosine',
      samples: 12,
      dropped: 1,
      errors: 0,
      latency_ms: { p50: 9, p95: 14.5 },
      active_latency_ms: { p50: 8, p95: 12.5 },
      agreement: 0.97,
    };
    assert.deepEqual(toPoint(parsed({ shadow: block }), undefined).shadow, {
      deployment: 'dep-1',
      model_id: 'm-2',
      model_version: '1.5.0',
      comparison: 'cosine',
      samples: 12,
      dropped: 1,
      errors: 0,
      latency_p50: 9,
      latency_p95: 14.5,
      active_latency_p50: 8,
      active_latency_p95: 12.5,
      agreement: 0.97,
    });
    // A window where the candidate ran nothing, outside any deployment: counts only.
    const empty = { ...block, deployment_id: null, samples: 0 } as Record<string, unknown>;
    delete empty.latency_ms;
    delete empty.active_latency_ms;
    delete empty.agreement;
    assert.deepEqual(toPoint(parsed({ shadow: empty }), undefined).shadow, {
      deployment: 'none',
      model_id: 'm-2',
      model_version: '1.5.0',
      comparison: 'cosine',
      samples: 0,
      dropped: 1,
      errors: 0,
    });
    assert.equal('shadow' in toPoint(parsed(), undefined), false);
  });

  it('never sees an invalid one: the telemetry schema refuses the message', () => {
    for (const latency_hist of [[[149, 1]], [[1, -1]], 'x']) {
      assert.equal(parseMessage('telemetry', message({ latency_hist })).ok, false);
    }
  });
});
