import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { foldShadowWindows, type ShadowWindowRow } from './shadow-aggregate.js';

const row = (over: Partial<ShadowWindowRow> = {}): ShadowWindowRow => ({
  device: 'cam-1',
  model_id: 'm-2',
  model_version: '1.5.0',
  comparison: 'top1',
  samples: 10,
  dropped: 0,
  errors: 0,
  latency_p95: 10,
  active_latency_p95: 8,
  agreement: 0.9,
  ...over,
});

const close = (actual: number | null, expected: number) => {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${actual} != ${expected}`);
};

describe('foldShadowWindows', () => {
  it('sums the counts and takes mean and sample sd per metric over one device’s windows', () => {
    const [only, ...rest] = foldShadowWindows([
      row({
        samples: 10,
        dropped: 1,
        errors: 0,
        latency_p95: 10,
        active_latency_p95: 8,
        agreement: 0.9,
      }),
      row({
        samples: 20,
        dropped: 0,
        errors: 2,
        latency_p95: 12,
        active_latency_p95: 8,
        agreement: 1,
      }),
      row({
        samples: 30,
        dropped: 3,
        errors: 1,
        latency_p95: 14,
        active_latency_p95: 11,
        agreement: 0.8,
      }),
    ]);
    assert.equal(rest.length, 0);
    assert.equal(only!.windows, 3);
    assert.deepEqual([only!.samples, only!.dropped, only!.errors], [60, 4, 3]);
    close(only!.latency_p95, 12);
    close(only!.latency_p95_sd, 2);
    close(only!.active_latency_p95, 9);
    close(only!.active_latency_p95_sd, Math.sqrt(3)); // (1 + 1 + 4) / 2
    close(only!.agreement, 0.9);
    close(only!.agreement_sd, 0.1);
    assert.equal(only!.model_id, 'm-2');
    assert.equal(only!.comparison, 'top1');
  });

  it('leaves out windows where the candidate ran nothing, even with drops or errors', () => {
    const rows = foldShadowWindows([
      row({
        samples: 0,
        dropped: 9,
        errors: 4,
        latency_p95: null,
        active_latency_p95: null,
        agreement: null,
      }),
      row({ samples: 5 }),
    ]);
    assert.equal(rows.length, 1);
    assert.deepEqual(
      [rows[0]!.windows, rows[0]!.samples, rows[0]!.dropped, rows[0]!.errors],
      [1, 5, 0, 0],
    );
    assert.equal(rows[0]!.latency_p95_sd, 0); // one window
    assert.deepEqual(foldShadowWindows([row({ samples: 0 })]), []);
  });

  it('averages a metric over the windows that carry it; null when none does', () => {
    const [r] = foldShadowWindows([
      row({ agreement: null, latency_p95: null, active_latency_p95: null }),
      row({ agreement: 0.5, latency_p95: null, active_latency_p95: null }),
    ]);
    assert.equal(r!.windows, 2);
    assert.equal(r!.agreement, 0.5);
    assert.equal(r!.agreement_sd, 0);
    assert.equal(r!.latency_p95, null);
    assert.equal(r!.active_latency_p95, null);
  });

  it('gives one row per device and candidate version, sorted by device then version', () => {
    const rows = foldShadowWindows([
      row({ device: 'cam-2', model_version: '1.5.0' }),
      row({ device: 'cam-1', model_version: '1.6.0', model_id: 'm-3' }),
      row({ device: 'cam-1', model_version: '1.5.0' }),
      row({ device: 'cam-1', model_version: '1.5.0' }),
    ]);
    assert.deepEqual(
      rows.map((r) => [r.device, r.model_version, r.model_id, r.windows]),
      [
        ['cam-1', '1.5.0', 'm-2', 2],
        ['cam-1', '1.6.0', 'm-3', 1],
        ['cam-2', '1.5.0', 'm-2', 1],
      ],
    );
  });
});
