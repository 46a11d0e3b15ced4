/**
 * Deployment health, as a pure function (design section 8): the new version's figures (cohort)
 * against the previous version's (baseline) over a window. Degradation needs enough data on the
 * side(s) a check reads; missing data is never a degradation, only "inconclusive".
 */

export interface VersionFigures {
  model_version: string;
  devices: number;
  samples: number;
  fps: number;
  latency_p95: number;
  memory_mb: number;
  frames: number;
  errors: number;
  map: number | null;
}

export interface RulesPolicy {
  enabled: boolean;
  window_s: number;
  /** Telemetry from the first seconds of a step is not judged: fresh sessions warm up, swaps jitter. */
  warmup_s: number;
  fps_drop_pct: number;
  p95_rise_pct: number;
  /** A p95 rise also has to exceed this many ms: sub-millisecond models jitter by whole percents. */
  p95_min_delta_ms: number;
  memory_rise_pct: number;
  error_rate_max_pct: number;
  map_drop_points: number;
  staging_failure_max_pct: number;
  min_devices: number;
  min_samples: number;
  /** A canary that stays inconclusive this long is paused. */
  inconclusive_timeout_s: number;
}

export const DEFAULT_RULES: RulesPolicy = {
  enabled: true,
  window_s: 60,
  warmup_s: 10,
  fps_drop_pct: 20,
  p95_rise_pct: 30,
  p95_min_delta_ms: 1,
  memory_rise_pct: 50,
  error_rate_max_pct: 5,
  map_drop_points: 5,
  staging_failure_max_pct: 20,
  min_devices: 1,
  min_samples: 3,
  inconclusive_timeout_s: 600,
};

/** The deployment's `rules` over the defaults; throws a one-line Error for a bad override. */
export function rulesPolicy(overrides: Record<string, unknown> | null | undefined): RulesPolicy {
  const policy: RulesPolicy = { ...DEFAULT_RULES };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (!(key in DEFAULT_RULES)) {
      throw new Error(
        `rules.${key} is not a rule; known: ${Object.keys(DEFAULT_RULES).join(', ')}`,
      );
    }
    const expected = typeof DEFAULT_RULES[key as keyof RulesPolicy];
    if (
      typeof value !== expected ||
      (typeof value === 'number' && (!Number.isFinite(value) || value < 0))
    ) {
      throw new Error(
        `rules.${key} must be ${expected === 'number' ? 'a number >= 0' : 'true or false'}`,
      );
    }
    (policy as unknown as Record<string, unknown>)[key] = value;
  }
  return policy;
}

export type CheckStatus = 'ok' | 'degraded' | 'no_data';
export type Verdict = 'healthy' | 'degraded' | 'inconclusive';

export interface Check {
  metric:
    'fps' | 'latency_p95' | 'memory' | 'error_rate' | 'map' | 'map_floor' | 'staging_failures';
  status: CheckStatus;
  cohort: number | null;
  baseline: number | null;
  /** Relative change in percent (or points for mAP), cohort vs baseline. */
  change: number | null;
  threshold: number;
  detail: string;
}

export interface HealthInput {
  cohort: VersionFigures | null;
  baseline: VersionFigures | null;
  /** Devices of the deployment that failed to stage / that took part; null when not applicable. */
  staging: { failed: number; total: number } | null;
  /** The new version's mAP floor (its metadata `map_floor`), 0..1. */
  mapFloor: number | null;
  policy: RulesPolicy;
}

export interface HealthReport {
  verdict: Verdict;
  checks: Check[];
  /** One line per degraded check (or why the verdict is inconclusive). */
  reasons: string[];
}

const r2 = (v: number) => Math.round(v * 100) / 100;

function enough(figures: VersionFigures | null, policy: RulesPolicy): figures is VersionFigures {
  return (
    !!figures && figures.devices >= policy.min_devices && figures.samples >= policy.min_samples
  );
}

export function evaluateHealth(input: HealthInput): HealthReport {
  const { policy, cohort, baseline } = input;
  const cohortOk = enough(cohort, policy);
  const baselineOk = enough(baseline, policy);
  const checks: Check[] = [];

  /** A relative check: degraded when cohort moved past `threshold` percent in the bad direction. */
  const relative = (
    metric: Check['metric'],
    pick: (f: VersionFigures) => number,
    threshold: number,
    worse: 'lower' | 'higher',
    unit: string,
    minDelta = 0,
  ) => {
    if (!cohortOk || !baselineOk) {
      checks.push({
        metric,
        status: 'no_data',
        cohort: cohort ? pick(cohort) : null,
        baseline: baseline ? pick(baseline) : null,
        change: null,
        threshold,
        detail: 'not enough devices or samples',
      });
      return;
    }
    const c = pick(cohort);
    const b = pick(baseline);
    if (!(b > 0)) {
      checks.push({
        metric,
        status: 'no_data',
        cohort: c,
        baseline: b,
        change: null,
        threshold,
        detail: `baseline ${metric} is ${b}`,
      });
      return;
    }
    const change = ((c - b) / b) * 100;
    const bad =
      (worse === 'lower' ? -change > threshold : change > threshold) && Math.abs(c - b) > minDelta;
    checks.push({
      metric,
      status: bad ? 'degraded' : 'ok',
      cohort: c,
      baseline: b,
      change: r2(change),
      threshold,
      detail: `${metric} ${r2(c)}${unit} vs ${r2(b)}${unit} (${change >= 0 ? '+' : ''}${r2(change)} %, limit ${worse === 'lower' ? '-' : '+'}${threshold} %)`,
    });
  };

  relative('fps', (f) => f.fps, policy.fps_drop_pct, 'lower', ' fps');
  relative(
    'latency_p95',
    (f) => f.latency_p95,
    policy.p95_rise_pct,
    'higher',
    ' ms',
    policy.p95_min_delta_ms,
  );
  relative('memory', (f) => f.memory_mb, policy.memory_rise_pct, 'higher', ' MB');

  // Error rate: absolute, on the cohort alone.
  if (cohortOk && cohort.frames + cohort.errors > 0) {
    const rate = (cohort.errors / (cohort.frames + cohort.errors)) * 100;
    checks.push({
      metric: 'error_rate',
      status: rate > policy.error_rate_max_pct ? 'degraded' : 'ok',
      cohort: r2(rate),
      baseline:
        baseline && baseline.frames + baseline.errors > 0
          ? r2((baseline.errors / (baseline.frames + baseline.errors)) * 100)
          : null,
      change: null,
      threshold: policy.error_rate_max_pct,
      detail: `error rate ${r2(rate)} % (${cohort.errors} errors / ${cohort.frames + cohort.errors} inferences, limit ${policy.error_rate_max_pct} %)`,
    });
  } else {
    checks.push({
      metric: 'error_rate',
      status: 'no_data',
      cohort: null,
      baseline: null,
      change: null,
      threshold: policy.error_rate_max_pct,
      detail: 'no inferences in the window',
    });
  }

  // mAP: a drop in points against the baseline, and the version's own floor.
  if (cohortOk && cohort.map !== null && baselineOk && baseline.map !== null) {
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
  if (input.mapFloor !== null && cohortOk && cohort.map !== null) {
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
  if (degraded.length > 0)
    return { verdict: 'degraded', checks, reasons: degraded.map((c) => c.detail) };
  if (!cohortOk || !baselineOk) {
    const side = !cohortOk ? 'new version' : 'baseline';
    const f = !cohortOk ? cohort : baseline;
    return {
      verdict: 'inconclusive',
      checks,
      reasons: [
        `${side}: ${f?.devices ?? 0} devices and ${f?.samples ?? 0} samples in the window; need ${policy.min_devices} and ${policy.min_samples}`,
      ],
    };
  }
  return { verdict: 'healthy', checks, reasons: [] };
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
