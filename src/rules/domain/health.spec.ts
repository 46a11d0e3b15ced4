import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceAccumulator, versionOf } from '../../telemetry/domain/aggregate.js';
import {
  chooseBaseline,
  DEFAULT_RULES,
  evaluateHealth,
  firstJudgementDelay,
  rulesPolicy,
  type HealthInput,
  type VersionFigures,
} from './health.js';
import { seededRandom as prng } from '@sentinel/broker/testing';
import { CAMERA_FLEET, devices, windowsOf } from '../../../test/support/synthetic-fleet.js';

/**
 * A version's figures from explicit windows: `perDevice[i]` lists device i's window values of
 * fps (the other metrics follow from `fields`).
 */
function figures(
  version: string,
  perDevice: number[][],
  fields: { p95?: (fps: number) => number; memory?: number; errors?: number; map?: number } = {},
): VersionFigures {
  const rows = perDevice.map((windows, i) => {
    const acc = new DeviceAccumulator(`cam-${i}`, version);
    for (const fps of windows) {
      acc.add({
        fps,
        latency_p95: fields.p95 ? fields.p95(fps) : 1000 / fps,
        memory_mb: fields.memory ?? 100,
        frames: Math.round(fps * 10),
        errors: fields.errors ?? 0,
        map: fields.map,
      });
    }
    return acc.row();
  });
  return versionOf(version, rows)!;
}

/** n devices of w windows each around `fps`, with a small fixed jitter (deterministic). */
function steady(version: string, n: number, w: number, fps: number, extra = {}): VersionFigures {
  const jitter = [0.98, 1.01, 1.0, 0.99, 1.02, 1.0, 0.99, 1.01];
  return figures(
    version,
    Array.from({ length: n }, (_, d) =>
      Array.from({ length: w }, (_, i) => fps * jitter[(i + d) % jitter.length]!),
    ),
    extra,
  );
}

const check = (report: ReturnType<typeof evaluateHealth>, metric: string) =>
  report.checks.find((c) => c.metric === metric)!;

const base: Omit<HealthInput, 'cohort' | 'baseline'> = {
  baselineKind: 'before',
  staging: null,
  mapFloor: null,
  policy: DEFAULT_RULES,
};

describe('evaluateHealth: scenarios', () => {
  it('healthy when no metric moves past its limit', () => {
    const report = evaluateHealth({
      ...base,
      cohort: steady('2', 3, 6, 29),
      baseline: steady('1', 3, 6, 30),
    });
    assert.equal(report.verdict, 'healthy', report.reasons.join('; '));
    assert.equal(check(report, 'fps').status, 'ok');
  });

  it('degraded when a drop is past the limit and significant, and says all of its condition', () => {
    const report = evaluateHealth({
      ...base,
      cohort: steady('2', 2, 6, 15),
      baseline: steady('1', 2, 6, 30),
    });
    assert.equal(report.verdict, 'degraded');
    const fps = check(report, 'fps');
    assert.equal(fps.status, 'degraded');
    assert.equal(fps.change, -50);
    assert.equal(fps.floor, DEFAULT_RULES.fps_min_delta);
    assert.ok(fps.p_value! < 0.0001);
    assert.deepEqual(fps.samples, {
      unit: 'windows',
      cohort: { devices: 2, windows: 12 },
      baseline: { devices: 2, windows: 12 },
    });
    assert.match(
      fps.detail,
      /^fps 15(\.\d+)? fps vs 30(\.\d+)? fps \(-50 %, limit -10 % and 0\.5 fps; p < 0\.0001 < 0\.01; 12 vs 12 windows on 2 vs 2 devices\)$/,
    );
    assert.deepEqual(report.reasons, [fps.detail, check(report, 'latency_p95').detail]);
  });

  it('past the limit but not significant is inconclusive, not healthy', () => {
    // Two devices, wildly noisy: the means differ by 25 % but the windows overlap.
    const report = evaluateHealth({
      ...base,
      cohort: figures('2', [
        [10, 40, 12, 38, 11],
        [39, 13, 37, 9, 30],
      ]),
      baseline: figures('1', [
        [14, 42, 45, 16, 44],
        [41, 15, 43, 47, 12],
      ]),
    });
    const fps = check(report, 'fps');
    assert.equal(fps.status, 'inconclusive');
    assert.ok(fps.p_value! >= 0.01);
    assert.equal(report.verdict, 'inconclusive');
    assert.match(report.reasons.join('\n'), /past the limit but not significant/);
  });

  it('the p95 floor is shown and applies: +117 % on 0.36 ms is within 0.5 ms, +233 % is not', () => {
    const small = evaluateHealth({
      ...base,
      cohort: steady('2', 1, 6, 30, { p95: () => 0.78 }),
      baseline: steady('1', 1, 6, 30, { p95: () => 0.36 }),
    });
    const p95 = check(small, 'latency_p95');
    assert.equal(p95.status, 'ok');
    assert.equal(p95.change, 116.67);
    assert.equal(p95.floor, 0.5);
    assert.match(p95.detail, /\+116\.67 %, limit \+20 % and 0\.5 ms/);
    const big = evaluateHealth({
      ...base,
      cohort: steady('2', 1, 6, 30, { p95: () => 1.2 }),
      baseline: steady('1', 1, 6, 30, { p95: () => 0.36 }),
    });
    assert.equal(check(big, 'latency_p95').status, 'degraded');
    const strict = evaluateHealth({
      ...base,
      policy: rulesPolicy({ p95_min_delta_ms: 0.1 }),
      cohort: steady('2', 1, 6, 30, { p95: () => 0.78 }),
      baseline: steady('1', 1, 6, 30, { p95: () => 0.36 }),
    });
    assert.equal(check(strict, 'latency_p95').status, 'degraded');
  });

  it('error rate, mAP and staging failures as before: absolute limits', () => {
    // 60 errors over 10 windows of 30 fps x 10 s: 60 / 3060 = 1.96 % is fine; 200 is 6.25 %.
    const errors = evaluateHealth({
      ...base,
      cohort: steady('2', 1, 10, 30, { errors: 20 }),
      baseline: null,
    });
    assert.equal(errors.verdict, 'degraded');
    assert.equal(check(errors, 'error_rate').status, 'degraded');
    const map = evaluateHealth({
      ...base,
      mapFloor: 0.79,
      cohort: steady('2', 2, 6, 30, { map: 0.74 }),
      baseline: steady('1', 2, 6, 30, { map: 0.8 }),
    });
    assert.deepEqual(
      map.checks.filter((c) => c.status === 'degraded').map((c) => c.metric),
      ['map', 'map_floor'],
    );
    const staging = evaluateHealth({
      ...base,
      staging: { failed: 2, total: 8 },
      cohort: steady('2', 2, 6, 30),
      baseline: steady('1', 2, 6, 30),
    });
    assert.equal(staging.verdict, 'degraded');
  });

  it('with 1 device and 3 windows it says inconclusive and why', () => {
    const report = evaluateHealth({
      ...base,
      cohort: steady('2', 1, 3, 10),
      baseline: steady('1', 1, 6, 30),
    });
    assert.equal(report.verdict, 'inconclusive');
    assert.deepEqual(report.reasons, [
      'new version: 1 device, 3 windows in the window; need 1 device(s) and 5 windows',
    ]);
    assert.equal(check(report, 'fps').status, 'no_data');
    const nothing = evaluateHealth({ ...base, cohort: null, baseline: null });
    assert.equal(nothing.verdict, 'inconclusive');
    assert.equal(nothing.reasons.length, 2);
  });

  it('an outside baseline compares devices, and needs no window-level significance', () => {
    const report = evaluateHealth({
      ...base,
      baselineKind: 'outside',
      cohort: steady('2', 3, 6, 20),
      baseline: steady('1', 6, 6, 30),
    });
    assert.equal(check(report, 'fps').samples?.unit, 'devices');
    assert.match(check(report, 'fps').detail, /; 3 vs 6 devices\)$/);
    assert.equal(report.verdict, 'degraded');
  });
});

describe('evaluateHealth: the latency check with fleet p95 (merged latency histograms)', () => {
  /** Figures with a fleet p95 set (what versionOf gives when the devices sent histograms). */
  const withFleet = (f: VersionFigures, fleet: number | null | undefined): VersionFigures => {
    const copy = { ...f };
    if (fleet === undefined) delete (copy as Partial<VersionFigures>).latency_p95_fleet;
    else copy.latency_p95_fleet = fleet;
    return copy;
  };
  // The windows' p95 is 1000 / fps: ~33.3 ms on both sides, or ~66.7 ms on a slow cohort.
  const same = () => steady('2', 2, 6, 30);
  const slower = () => steady('2', 2, 6, 30, { p95: (fps: number) => 2000 / fps });
  const baseline = () => steady('1', 2, 6, 30);

  it('when both sides have one, the figures, change, limit and floor are the fleet p95s', () => {
    const report = evaluateHealth({
      ...base,
      cohort: withFleet(slower(), 60),
      baseline: withFleet(baseline(), 40),
    });
    const p95 = check(report, 'latency_p95');
    assert.equal(p95.status, 'degraded');
    assert.equal(p95.cohort, 60);
    assert.equal(p95.baseline, 40);
    assert.equal(p95.change, 50);
    // The significance test is still the windows' p95 spread (12 vs 12 windows).
    assert.ok(p95.p_value! < 0.0001);
    assert.match(
      p95.detail,
      /^latency_p95 \(fleet p95\) 60 ms vs 40 ms \(\+50 %, limit \+20 % and 0\.5 ms; p < 0\.0001 < 0\.01 on the windows' latency_p95; 12 vs 12 windows on 2 vs 2 devices\)$/,
    );
  });

  it("a doubled mean of the windows' p95 is ok when the fleet p95 barely moves", () => {
    const without = evaluateHealth({ ...base, cohort: slower(), baseline: baseline() });
    assert.equal(check(without, 'latency_p95').status, 'degraded');
    const report = evaluateHealth({
      ...base,
      cohort: withFleet(slower(), 42),
      baseline: withFleet(baseline(), 40),
    });
    const p95 = check(report, 'latency_p95');
    assert.equal(p95.status, 'ok');
    assert.equal(p95.change, 5);
    assert.equal(report.verdict, 'healthy', report.reasons.join('; '));
  });

  it('a fleet p95 past the limit is only inconclusive when the windows do not show it significantly', () => {
    const report = evaluateHealth({
      ...base,
      cohort: withFleet(same(), 60),
      baseline: withFleet(baseline(), 40),
    });
    const p95 = check(report, 'latency_p95');
    assert.equal(p95.status, 'inconclusive');
    assert.equal(p95.change, 50);
    assert.ok(p95.p_value! >= 0.01);
    assert.equal(report.verdict, 'inconclusive');
  });

  it("applies the floor to the fleet p95's difference", () => {
    // +100 % but 0.05 ms, under the 0.5 ms floor.
    const report = evaluateHealth({
      ...base,
      cohort: withFleet(slower(), 0.1),
      baseline: withFleet(baseline(), 0.05),
    });
    assert.equal(check(report, 'latency_p95').status, 'ok');
    assert.equal(check(report, 'latency_p95').change, 100);
  });

  it('shows the fleet p95s when there is not enough data to judge', () => {
    const report = evaluateHealth({
      ...base,
      cohort: withFleet(steady('2', 1, 3, 30), 60),
      baseline: withFleet(baseline(), 40),
    });
    const p95 = check(report, 'latency_p95');
    assert.equal(p95.status, 'no_data');
    assert.deepEqual([p95.cohort, p95.baseline], [60, 40]);
  });

  it('when one side has none (null, or a baseline kept before the field existed), nothing changes', () => {
    for (const cohortOnly of [false, true]) {
      for (const cohort of [same(), slower()]) {
        const plain = evaluateHealth({
          ...base,
          cohort: withFleet(cohort, null),
          baseline: withFleet(baseline(), null),
        });
        for (const missing of [null, undefined]) {
          const mixed = evaluateHealth({
            ...base,
            cohort: withFleet(cohort, cohortOnly ? 60 : missing),
            baseline: withFleet(baseline(), cohortOnly ? missing : 40),
          });
          assert.deepEqual(mixed.checks, plain.checks);
          assert.equal(mixed.verdict, plain.verdict);
          assert.doesNotMatch(check(mixed, 'latency_p95').detail, /fleet/);
        }
      }
    }
  });
});

describe('chooseBaseline', () => {
  const policy = DEFAULT_RULES;
  const before = steady('1', 2, 6, 30);
  it('a canary compares with the devices outside its cohort when there are enough', () => {
    const pick = chooseBaseline({
      type: 'canary',
      cohort: steady('2', 5, 6, 30),
      outside: steady('1', 5, 6, 30),
      before,
      policy,
    });
    assert.equal(pick.kind, 'outside');
  });
  it('otherwise with the same devices before the step: a full cohort, fewer than 5 devices on a side, blue/green', () => {
    for (const [type, cohort, outside] of [
      ['canary', steady('2', 5, 6, 30), null],
      ['canary', steady('2', 4, 6, 30), steady('1', 16, 6, 30)],
      ['canary', steady('2', 9, 6, 30), steady('1', 4, 6, 30)],
      ['blue-green', steady('2', 6, 6, 30), steady('1', 6, 6, 30)],
    ] as const) {
      const pick = chooseBaseline({ type, cohort, outside, before, policy });
      assert.equal(pick.kind, 'before', `${type} ${cohort.devices}/${outside?.devices}`);
      assert.equal(pick.baseline, before);
    }
  });
});

describe('evaluateHealth: property over seeded synthetic fleets', () => {
  const SEEDS = 1000;
  const rate = (run: (seed: number) => string) => {
    let degraded = 0;
    for (let seed = 1; seed <= SEEDS; seed++) if (run(seed) === 'degraded') degraded++;
    return degraded / SEEDS;
  };
  const shape = CAMERA_FLEET;

  // Blue/green or a full cohort: the same 5 devices, 6 windows before and 6 after.
  const beforeAfter = (seed: number, fpsFactor: number) => {
    const random = prng(seed);
    const fleet = devices(random, 5, shape);
    return evaluateHealth({
      ...base,
      baseline: windowsOf(random, fleet, '1', 6, shape),
      cohort: windowsOf(random, fleet, '2', 6, shape, { fpsFactor }),
    }).verdict;
  };
  // A canary: 5 cohort devices against 15 others, same window.
  const outside = (seed: number, fpsFactor: number) => {
    const random = prng(seed);
    return evaluateHealth({
      ...base,
      baselineKind: 'outside',
      baseline: windowsOf(random, devices(random, 15, shape, 'out'), '1', 6, shape),
      cohort: windowsOf(random, devices(random, 5, shape, 'in'), '2', 6, shape, { fpsFactor }),
    }).verdict;
  };

  it('noise alone (the same distribution) is degraded in at most 1 % of 1,000 seeds', () => {
    const a = rate((seed) => beforeAfter(seed, 1));
    const b = rate((seed) => outside(seed, 1));
    assert.ok(a <= 0.01, `before/after: ${a}`);
    assert.ok(b <= 0.01, `outside: ${b}`);
  });

  it('a 20 % FPS drop on 5 devices is degraded in at least 99 % of 1,000 seeds', () => {
    const a = rate((seed) => beforeAfter(seed, 0.8));
    const b = rate((seed) => outside(seed, 0.8));
    assert.ok(a >= 0.99, `before/after: ${a}`);
    assert.ok(b >= 0.99, `outside: ${b}`);
  });
});

describe('rulesPolicy', () => {
  it('applies overrides and refuses unknown or malformed ones', () => {
    assert.equal(rulesPolicy({ fps_drop_pct: 15 }).fps_drop_pct, 15);
    assert.equal(rulesPolicy(undefined).p95_rise_pct, 20);
    assert.throws(() => rulesPolicy({ fps_drop: 10 }), /rules.fps_drop is not a rule/);
    assert.throws(() => rulesPolicy({ fps_drop_pct: -1 }), /a number >= 0/);
    assert.throws(() => rulesPolicy({ enabled: 'no' }), /true or false/);
    assert.throws(() => rulesPolicy({ alpha: 0.7 }), /above 0 and below 0.5/);
  });
});

describe('firstJudgementDelay', () => {
  const step = new Date(Math.floor(Date.now() / 60_000) * 60_000);
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
