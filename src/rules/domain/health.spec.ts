import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_RULES,
  evaluateHealth,
  firstJudgementDelay,
  rulesPolicy,
  type VersionFigures,
} from './health.js';

function figures(version: string, fields: Partial<VersionFigures> = {}): VersionFigures {
  return {
    model_version: version,
    devices: 4,
    samples: 20,
    fps: 30,
    latency_p95: 10,
    memory_mb: 100,
    frames: 6000,
    errors: 0,
    map: null,
    ...fields,
  };
}

const check = (report: ReturnType<typeof evaluateHealth>, metric: string) =>
  report.checks.find((c) => c.metric === metric)!;

describe('evaluateHealth', () => {
  const base = { staging: null, mapFloor: null, policy: DEFAULT_RULES };

  it('healthy when every metric is within its threshold', () => {
    // fps 27 vs 30 = -10 % (limit -20 %); p95 12 vs 10 = +20 % (limit +30 %).
    const report = evaluateHealth({
      ...base,
      cohort: figures('2', { fps: 27, latency_p95: 12 }),
      baseline: figures('1'),
    });
    assert.equal(report.verdict, 'healthy');
    assert.equal(check(report, 'fps').change, -10);
    assert.equal(check(report, 'latency_p95').change, 20);
  });

  it('degraded on an FPS drop over 20 %: 15 vs 30 fps is -50 %', () => {
    const report = evaluateHealth({
      ...base,
      cohort: figures('2', { fps: 15 }),
      baseline: figures('1'),
    });
    assert.equal(report.verdict, 'degraded');
    assert.equal(check(report, 'fps').status, 'degraded');
    assert.match(report.reasons[0]!, /^fps 15 fps vs 30 fps \(-50 %, limit -20 %\)$/);
  });

  it('degraded on p95 latency +30 % or more, memory +50 % or more, error rate over 5 %', () => {
    // p95 13.1 vs 10 = +31 %.
    assert.equal(
      evaluateHealth({
        ...base,
        cohort: figures('2', { latency_p95: 13.1 }),
        baseline: figures('1'),
      }).verdict,
      'degraded',
    );
    // memory 151 vs 100 = +51 %.
    assert.equal(
      evaluateHealth({ ...base, cohort: figures('2', { memory_mb: 151 }), baseline: figures('1') })
        .verdict,
      'degraded',
    );
    // 60 errors / (1000 + 60) = 5.66 % > 5 %: absolute, needs no baseline.
    const errors = evaluateHealth({
      ...base,
      cohort: figures('2', { frames: 1000, errors: 60 }),
      baseline: null,
    });
    assert.equal(errors.verdict, 'degraded');
    assert.equal(check(errors, 'error_rate').cohort, 5.66);
  });

  it('degraded on a mAP drop over 5 points or below the version floor', () => {
    // 0.74 vs 0.80: -6 points.
    const drop = evaluateHealth({
      ...base,
      cohort: figures('2', { map: 0.74 }),
      baseline: figures('1', { map: 0.8 }),
    });
    assert.equal(drop.verdict, 'degraded');
    assert.equal(check(drop, 'map').change, -6);
    // 0.78 vs 0.80 (-2 points) is fine, but under a floor of 0.79.
    const floor = evaluateHealth({
      ...base,
      mapFloor: 0.79,
      cohort: figures('2', { map: 0.78 }),
      baseline: figures('1', { map: 0.8 }),
    });
    assert.deepEqual(
      floor.checks.filter((c) => c.status === 'degraded').map((c) => c.metric),
      ['map_floor'],
    );
  });

  it('a p95 rise must also exceed p95_min_delta_ms (1 ms): 0.3 vs 0.1 ms is +200 % but only 0.2 ms', () => {
    const tiny = evaluateHealth({
      ...base,
      cohort: figures('2', { latency_p95: 0.3 }),
      baseline: figures('1', { latency_p95: 0.1 }),
    });
    assert.equal(check(tiny, 'latency_p95').status, 'ok');
    assert.equal(check(tiny, 'latency_p95').change, 200);
    const real = evaluateHealth({
      ...base,
      cohort: figures('2', { latency_p95: 2.6 }),
      baseline: figures('1', { latency_p95: 1.2 }),
    });
    assert.equal(check(real, 'latency_p95').status, 'degraded');
  });

  it('degraded when more than 20 % of the devices failed to stage: 2 of 8 = 25 %', () => {
    const report = evaluateHealth({
      ...base,
      staging: { failed: 2, total: 8 },
      cohort: figures('2'),
      baseline: figures('1'),
    });
    assert.equal(report.verdict, 'degraded');
  });

  it('inconclusive, never degraded, on missing data', () => {
    const few = evaluateHealth({
      ...base,
      cohort: figures('2', { samples: 2, fps: 1 }),
      baseline: figures('1'),
    });
    assert.equal(few.verdict, 'inconclusive');
    assert.match(
      few.reasons[0]!,
      /new version: 4 devices and 2 samples in the window; need 1 and 3/,
    );
    const noBaseline = evaluateHealth({
      ...base,
      cohort: figures('2', { fps: 1 }),
      baseline: null,
    });
    assert.equal(noBaseline.verdict, 'inconclusive');
    const nothing = evaluateHealth({ ...base, cohort: null, baseline: null });
    assert.equal(nothing.verdict, 'inconclusive');
    // No frames on either side (no inference running): no FPS verdict.
    const idle = evaluateHealth({
      ...base,
      cohort: figures('2', { fps: 0, frames: 0 }),
      baseline: figures('1', { fps: 0, frames: 0 }),
    });
    assert.equal(check(idle, 'fps').status, 'no_data');
    assert.equal(idle.verdict, 'healthy');
  });

  it('min_devices and min_samples come from the overrides', () => {
    const policy = rulesPolicy({ min_devices: 5 });
    const report = evaluateHealth({
      ...base,
      policy,
      cohort: figures('2', { fps: 1 }),
      baseline: figures('1'),
    });
    assert.equal(report.verdict, 'inconclusive');
  });
});

describe('rulesPolicy', () => {
  it('applies overrides and refuses unknown or malformed ones', () => {
    assert.equal(rulesPolicy({ fps_drop_pct: 10 }).fps_drop_pct, 10);
    assert.equal(rulesPolicy(undefined).p95_rise_pct, 30);
    assert.throws(() => rulesPolicy({ fps_drop: 10 }), /rules.fps_drop is not a rule/);
    assert.throws(() => rulesPolicy({ fps_drop_pct: -1 }), /a number >= 0/);
    assert.throws(() => rulesPolicy({ enabled: 'no' }), /true or false/);
  });
});

describe('firstJudgementDelay', () => {
  const step = new Date('2026-11-29T10:00:00Z');
  const at = (s: number) => new Date(step.getTime() + s * 1000);
  it('judges a step 1 s after its warm-up when the next regular pass would come later', () => {
    // warm-up 10 s + grace 1 s = 11 s after the step; at 3 s that is 8 s away, within a 10 s interval.
    assert.equal(firstJudgementDelay(step, { warmup_s: 10 }, at(3), 10_000), 8_000);
    assert.equal(firstJudgementDelay(step, { warmup_s: 10 }, at(10.5), 10_000), 500);
  });
  it('leaves it to the regular passes when one comes first, or the moment is past', () => {
    // At 0.5 s, 10.5 s away: the regular pass at 10.5 s (interval 10 s) is no later.
    assert.equal(firstJudgementDelay(step, { warmup_s: 10 }, at(0.5), 10_000), null);
    assert.equal(firstJudgementDelay(step, { warmup_s: 10 }, at(11), 10_000), null);
    assert.equal(firstJudgementDelay(step, { warmup_s: 10 }, at(20), 10_000), null);
  });
});
