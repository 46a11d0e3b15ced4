import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RULES } from './health.js';
import {
  belowFloorP,
  evaluateShadow,
  shadowFiguresOf,
  type ShadowDeviceFigures,
} from './shadow.js';

const policy = { ...DEFAULT_RULES, min_devices: 2, min_samples: 6 };

/** A device's windows: the candidate's and the serving model's p95 latency, and the agreement. */
function device(id: string, figures: Partial<ShadowDeviceFigures> = {}): ShadowDeviceFigures {
  return {
    device: id,
    model_version: '2.0.0',
    windows: 5,
    samples: 100,
    dropped: 0,
    errors: 0,
    latency_p95: 10,
    latency_p95_sd: 0.5,
    active_latency_p95: 10,
    active_latency_p95_sd: 0.5,
    agreement: 0.99,
    agreement_sd: 0.01,
    ...figures,
  };
}

const judge = (rows: ShadowDeviceFigures[], minAgreement = 0.9) =>
  evaluateShadow({ figures: shadowFiguresOf('2.0.0', rows), policy, minAgreement });

describe('the shadow verdict', () => {
  it('a faithful candidate as fast as the serving model is healthy', () => {
    const report = judge([device('a'), device('b')]);
    assert.equal(report.verdict, 'healthy', report.reasons.join('; '));
    assert.deepEqual(
      report.checks.map((c) => [c.metric, c.status]),
      [
        ['latency_p95', 'ok'],
        ['error_rate', 'ok'],
        ['agreement', 'ok'],
      ],
    );
  });

  it('outputs that disagree are degraded, with the figures', () => {
    const report = judge([device('a', { agreement: 0.2 }), device('b', { agreement: 0.3 })]);
    assert.equal(report.verdict, 'degraded');
    assert.match(
      report.reasons[0]!,
      /shadow agreement 0\.25 with the serving model \(minimum 0\.9; p/,
    );
  });

  it('a slower candidate is degraded on latency: past the limit and significant', () => {
    const report = judge([
      device('a', { latency_p95: 20, latency_p95_sd: 1 }),
      device('b', { latency_p95: 21, latency_p95_sd: 1 }),
    ]);
    assert.equal(report.verdict, 'degraded');
    assert.match(report.reasons[0]!, /shadow latency_p95 20\.5 ms vs 10 ms serving/);
  });

  it('past the limit but not significant is inconclusive, never healthy', () => {
    const report = judge([
      device('a', { windows: 1, latency_p95: 20 }),
      device('b', { windows: 1, latency_p95: 40, active_latency_p95: 30 }),
      device('c', { windows: 4, latency_p95: 11, latency_p95_sd: 9 }),
    ]);
    const latency = report.checks.find((c) => c.metric === 'latency_p95')!;
    assert.equal(latency.status, 'inconclusive', latency.detail);
    assert.equal(report.verdict, 'inconclusive');
  });

  it('a candidate that fails is degraded on its error rate', () => {
    const report = judge([device('a', { errors: 30 }), device('b')]);
    assert.equal(report.verdict, 'degraded');
    assert.match(report.reasons[0]!, /shadow error rate 13\.04 %/);
  });

  it('too few devices or windows: inconclusive, saying what is missing', () => {
    const report = judge([device('a')]);
    assert.equal(report.verdict, 'inconclusive');
    assert.match(
      report.reasons[0]!,
      /1 device\(s\), 5 window\(s\); need 2 device\(s\) and 6 windows/,
    );
    assert.equal(judge([]).verdict, 'inconclusive');
  });

  it('pools the windows of every device', () => {
    const figures = shadowFiguresOf('2.0.0', [
      device('a', { windows: 2, agreement: 1, agreement_sd: 0 }),
      device('b', { windows: 2, agreement: 0.5, agreement_sd: 0 }),
      device('c', { model_version: '1.0.0' }),
    ])!;
    assert.equal(figures.devices, 2);
    assert.equal(figures.windows, 4);
    assert.equal(figures.agreement.mean, 0.75);
    assert.equal(figures.samples, 200);
  });

  it('the one-sample test of the agreement floor', () => {
    assert.equal(belowFloorP({ n: 10, mean: 0.95, sd: 0.1 }, 0.9), 1, 'above the floor');
    assert.equal(belowFloorP({ n: 1, mean: 0.5, sd: 0 }, 0.9), null, 'one window: no test');
    assert.equal(belowFloorP({ n: 5, mean: 0.5, sd: 0 }, 0.9), 0, 'no spread: certain');
    const p = belowFloorP({ n: 10, mean: 0.85, sd: 0.1 }, 0.9)!;
    assert.ok(p > 0.05 && p < 0.1, `t 1.58, df 9: p ${p}`);
  });
});
