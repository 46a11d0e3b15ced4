/**
 * Deployment health, as a pure function: the new version's figures against a baseline's. A check
 * is degraded only when the change is past its limit (relative, and an absolute floor) AND
 * significant (Welch's one-sided t-test, p < alpha); past the limit but not significant is
 * inconclusive (more data needed), never healthy. Missing data is never a degradation.
 */
import { OUTSIDE_MIN_DEVICES, type RulesPolicy } from '../../deployments/domain/rules-policy.js';
import type {
  SampleStats,
  SpreadMetric,
  VersionAggregate,
} from '../../telemetry/telemetry-store.js';
import { welchWorse } from './significance.js';

export {
  DEFAULT_RULES,
  rulesPolicy,
  type RulesPolicy,
} from '../../deployments/domain/rules-policy.js';

export type VersionFigures = VersionAggregate;

/**
 * Where the baseline comes from. `outside`: the previous version on the devices outside the canary
 * cohort, in the same window; the samples are devices (their means), since devices differ.
 * `before`: the same devices before the step (blue/green: before the deployment, ahead of staging);
 * the samples are telemetry windows.
 */
export type BaselineKind = 'outside' | 'before';

export type CheckStatus = 'ok' | 'degraded' | 'inconclusive' | 'no_data';
export type Verdict = 'healthy' | 'degraded' | 'inconclusive';

export interface Check {
  metric:
    | 'fps'
    | 'latency_p95'
    | 'memory'
    | 'error_rate'
    | 'map'
    | 'map_floor'
    | 'staging_failures'
    /** Shadow verification: the candidate's outputs against the serving model's (shadow.ts). */
    | 'agreement';
  status: CheckStatus;
  cohort: number | null;
  baseline: number | null;
  /** Relative change in percent (or points for mAP), cohort vs baseline. */
  change: number | null;
  /** The limit: percent for relative checks, points for mAP, percent for rates, 0..1 for a floor. */
  threshold: number;
  /** The absolute floor a change must also pass (fps, ms, MB), where the check has one. */
  floor?: number;
  /** Welch's one-sided p-value, where the check tests significance. */
  p_value?: number | null;
  alpha?: number;
  /** What was counted on each side: devices and telemetry windows, and which of them were samples. */
  samples?: {
    unit: 'devices' | 'windows';
    cohort: { devices: number; windows: number };
    baseline: { devices: number; windows: number };
  };
  detail: string;
}

export interface HealthInput {
  cohort: VersionFigures | null;
  baseline: VersionFigures | null;
  baselineKind: BaselineKind;
  /** Devices of the deployment that failed to stage / that took part; null when not applicable. */
  staging: { failed: number; total: number } | null;
  /** The new version's mAP floor (its metadata `map_floor`), 0..1. */
  mapFloor: number | null;
  policy: RulesPolicy;
}

export interface HealthReport {
  verdict: Verdict;
  checks: Check[];
  /** One line per degraded check, or what keeps the verdict inconclusive. */
  reasons: string[];
}

const r2 = (v: number) => Math.round(v * 100) / 100;
const fmtP = (p: number) => (p < 0.0001 ? '< 0.0001' : String(Math.round(p * 10000) / 10000));

function enough(figures: VersionFigures | null, policy: RulesPolicy): figures is VersionFigures {
  return (
    !!figures && figures.devices >= policy.min_devices && figures.samples >= policy.min_samples
  );
}

/**
 * A side's fleet p95 (the percentile of its merged latency histograms), or null: none sent, or a
 * figure kept before there was one (a stored baseline has no such field).
 */
function fleetP95(f: VersionFigures | null): number | null {
  const value = f?.latency_p95_fleet;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function sideText(f: VersionFigures | null): string {
  return `${f?.devices ?? 0} device${f?.devices === 1 ? '' : 's'}, ${f?.samples ?? 0} window${f?.samples === 1 ? '' : 's'}`;
}

export function evaluateHealth(input: HealthInput): HealthReport {
  const { policy, cohort, baseline } = input;
  const cohortOk = enough(cohort, policy);
  const baselineOk = enough(baseline, policy);
  const unit = input.baselineKind === 'outside' ? 'devices' : 'windows';
  const checks: Check[] = [];

  /**
   * A relative check with an absolute floor and a significance test. `shown`, when given, are the
   * figures compared with the limit and floor instead of the spreads' means (the fleet p95); the
   * significance test stays on the spreads.
   */
  const relative = (
    metric: Extract<Check['metric'], 'fps' | 'latency_p95' | 'memory'>,
    field: SpreadMetric,
    threshold: number,
    floor: number,
    worse: 'lower' | 'higher',
    unitText: string,
    shown?: { cohort: number; baseline: number; label: string },
  ) => {
    const base = { metric, threshold, floor, alpha: policy.alpha };
    const label = shown ? ` (${shown.label})` : '';
    if (!cohortOk || !baselineOk) {
      checks.push({
        ...base,
        status: 'no_data',
        cohort: shown ? shown.cohort : cohort ? cohort[field] : null,
        baseline: shown ? shown.baseline : baseline ? baseline[field] : null,
        change: null,
        p_value: null,
        detail: `not enough data: new ${sideText(cohort)}, baseline ${sideText(baseline)}; need ${policy.min_devices} device(s) and ${policy.min_samples} windows each`,
      });
      return;
    }
    const c: SampleStats = cohort.spread[field][unit];
    const b: SampleStats = baseline.spread[field][unit];
    const cValue = shown ? shown.cohort : c.mean;
    const bValue = shown ? shown.baseline : b.mean;
    const samples = {
      unit,
      cohort: { devices: cohort.devices, windows: cohort.samples },
      baseline: { devices: baseline.devices, windows: baseline.samples },
    } as const;
    if (!(bValue > 0)) {
      checks.push({
        ...base,
        status: 'no_data',
        cohort: cValue,
        baseline: bValue,
        change: null,
        p_value: null,
        samples,
        detail: `baseline ${metric}${label} is ${bValue}`,
      });
      return;
    }
    const change = ((cValue - bValue) / bValue) * 100;
    const pastLimit =
      (worse === 'lower' ? -change > threshold : change > threshold) &&
      Math.abs(cValue - bValue) > floor;
    const test = welchWorse(c, b, worse);
    const significant = test !== null && test.p < policy.alpha;
    const status: CheckStatus = !pastLimit ? 'ok' : significant ? 'degraded' : 'inconclusive';
    const sign = worse === 'lower' ? '-' : '+';
    const pText =
      test === null
        ? `too few ${unit} to test`
        : `p ${fmtP(test.p)} ${significant ? '<' : '>='} ${policy.alpha}`;
    // With fleet figures the test is still on the spreads: say which.
    const testedOn = shown ? ` on the ${unit}' ${field}` : '';
    checks.push({
      ...base,
      status,
      cohort: cValue,
      baseline: bValue,
      change: r2(change),
      p_value: test?.p ?? null,
      samples,
      detail:
        `${metric}${label} ${r2(cValue)}${unitText} vs ${r2(bValue)}${unitText} (${change >= 0 ? '+' : ''}${r2(change)} %, ` +
        `limit ${sign}${threshold} % and ${floor}${unitText}; ${pText}${testedOn}; ` +
        `${c.n} vs ${b.n} ${unit}${unit === 'windows' ? ` on ${cohort.devices} vs ${baseline.devices} devices` : ''})`,
    });
  };

  relative('fps', 'fps', policy.fps_drop_pct, policy.fps_min_delta, 'lower', ' fps');
  // The fleet p95 (merged latency histograms) when both sides have one, else the windows' p95.
  const cohortFleet = fleetP95(cohort);
  const baselineFleet = fleetP95(baseline);
  relative(
    'latency_p95',
    'latency_p95',
    policy.p95_rise_pct,
    policy.p95_min_delta_ms,
    'higher',
    ' ms',
    cohortFleet !== null && baselineFleet !== null
      ? { cohort: cohortFleet, baseline: baselineFleet, label: 'fleet p95' }
      : undefined,
  );
  relative(
    'memory',
    'memory_mb',
    policy.memory_rise_pct,
    policy.memory_min_delta_mb,
    'higher',
    ' MB',
  );
  checks.push(errorRate(cohortOk ? cohort : null, baseline, policy));
  checks.push(...mapChecks(cohortOk ? cohort : null, baselineOk ? baseline : null, input));
  if (input.staging && input.staging.total > 0) {
    const share = (input.staging.failed / input.staging.total) * 100;
    checks.push({
      metric: 'staging_failures',
      status: share > policy.staging_failure_max_pct ? 'degraded' : 'ok',
      cohort: r2(share),
      baseline: null,
      change: null,
      threshold: policy.staging_failure_max_pct,
      detail: `${input.staging.failed}/${input.staging.total} devices failed to stage (${r2(share)} %, limit ${policy.staging_failure_max_pct} %)`,
    });
  }

  const degraded = checks.filter((c) => c.status === 'degraded');
  if (degraded.length > 0) {
    return { verdict: 'degraded', checks, reasons: degraded.map((c) => c.detail) };
  }
  const reasons: string[] = [];
  if (!cohortOk || !baselineOk) {
    for (const [side, f, ok] of [
      ['new version', cohort, cohortOk],
      [
        `baseline (${input.baselineKind === 'outside' ? 'devices outside the cohort' : 'the same devices before the step'})`,
        baseline,
        baselineOk,
      ],
    ] as const) {
      if (!ok) {
        reasons.push(
          `${side}: ${sideText(f)} in the window; need ${policy.min_devices} device(s) and ${policy.min_samples} windows`,
        );
      }
    }
  }
  for (const c of checks) {
    if (c.status === 'inconclusive')
      reasons.push(`${c.detail}: past the limit but not significant`);
  }
  if (reasons.length > 0) return { verdict: 'inconclusive', checks, reasons };
  return { verdict: 'healthy', checks, reasons: [] };
}

/** Error rate: absolute, on the new version alone (the baseline's is shown). */
function errorRate(
  cohort: VersionFigures | null,
  baseline: VersionFigures | null,
  policy: RulesPolicy,
): Check {
  const rateOf = (f: VersionFigures) => (f.errors / (f.frames + f.errors)) * 100;
  if (!cohort || cohort.frames + cohort.errors === 0) {
    return {
      metric: 'error_rate',
      status: 'no_data',
      cohort: null,
      baseline: null,
      change: null,
      threshold: policy.error_rate_max_pct,
      detail: 'no inferences in the window',
    };
  }
  const rate = rateOf(cohort);
  return {
    metric: 'error_rate',
    status: rate > policy.error_rate_max_pct ? 'degraded' : 'ok',
    cohort: r2(rate),
    baseline: baseline && baseline.frames + baseline.errors > 0 ? r2(rateOf(baseline)) : null,
    change: null,
    threshold: policy.error_rate_max_pct,
    detail: `error rate ${r2(rate)} % (${cohort.errors} errors / ${cohort.frames + cohort.errors} inferences, limit ${policy.error_rate_max_pct} %)`,
  };
}

/** mAP: a drop in points against the baseline, and the version's own floor. */
function mapChecks(
  cohort: VersionFigures | null,
  baseline: VersionFigures | null,
  input: HealthInput,
): Check[] {
  const { policy } = input;
  const checks: Check[] = [];
  if (cohort && cohort.map !== null && baseline && baseline.map !== null) {
    const drop = (baseline.map - cohort.map) * 100;
    checks.push({
      metric: 'map',
      status: drop > policy.map_drop_points ? 'degraded' : 'ok',
      cohort: cohort.map,
      baseline: baseline.map,
      change: r2(-drop),
      threshold: policy.map_drop_points,
      detail: `mAP ${r2(cohort.map * 100)} vs ${r2(baseline.map * 100)} (${r2(-drop)} points, limit -${policy.map_drop_points})`,
    });
  } else {
    checks.push({
      metric: 'map',
      status: 'no_data',
      cohort: cohort?.map ?? null,
      baseline: baseline?.map ?? null,
      change: null,
      threshold: policy.map_drop_points,
      detail: 'no mAP reported on both sides',
    });
  }
  if (input.mapFloor !== null && cohort && cohort.map !== null) {
    checks.push({
      metric: 'map_floor',
      status: cohort.map < input.mapFloor ? 'degraded' : 'ok',
      cohort: cohort.map,
      baseline: null,
      change: null,
      threshold: input.mapFloor,
      detail: `mAP ${r2(cohort.map * 100)} vs the version's floor ${r2(input.mapFloor * 100)}`,
    });
  }
  return checks;
}

/**
 * Which baseline judges a step. Canary: the devices outside the cohort in the same window when
 * both sides have OUTSIDE_MIN_DEVICES (and the policy's minimums); otherwise, as for blue/green,
 * the same devices before the step.
 */
export function chooseBaseline(input: {
  type: 'canary' | 'blue-green';
  cohort: VersionFigures | null;
  outside: VersionFigures | null;
  before: VersionFigures | null;
  policy: RulesPolicy;
}): { kind: BaselineKind; baseline: VersionFigures | null } {
  const { cohort, outside, policy } = input;
  const devices = Math.max(OUTSIDE_MIN_DEVICES, policy.min_devices);
  if (
    input.type === 'canary' &&
    outside &&
    outside.devices >= devices &&
    outside.samples >= policy.min_samples &&
    cohort &&
    cohort.devices >= devices
  ) {
    return { kind: 'outside', baseline: outside };
  }
  return { kind: 'before', baseline: input.before };
}

/** After a step's warm-up, how long the windows of its first seconds are given to arrive. */
export const FIRST_JUDGEMENT_GRACE_MS = 1_000;

/**
 * When to judge a step first, as a delay from `now`: just after its warm-up ends (plus a grace for
 * the first windows to arrive) if that comes before the next regular pass, else null (the regular
 * passes cover it). Without it, a degradation waited up to a whole RULES_INTERVAL_S for its pass.
 */
export function firstJudgementDelay(
  stepStartedAt: Date,
  policy: Pick<RulesPolicy, 'warmup_s'>,
  now: Date,
  intervalMs: number,
): number | null {
  const at = stepStartedAt.getTime() + policy.warmup_s * 1000 + FIRST_JUDGEMENT_GRACE_MS;
  const delay = at - now.getTime();
  return delay > 0 && delay < intervalMs ? delay : null;
}
