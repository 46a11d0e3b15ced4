/**
 * The verdict on a shadow phase, as a pure function: the candidate model against the serving one
 * on the same inputs of the same devices (telemetry windows of the agents' `shadow` blocks). The
 * same rules and the same statistics as live telemetry (health.ts): latency degraded only when past
 * the limit AND significant (Welch, one-sided, p < alpha), past the limit but not significant is
 * inconclusive; the error rate is absolute; and the outputs' agreement must reach the deployment's
 * `min_agreement`, significantly below it (one-sample t-test) being degraded. Missing data is never
 * a degradation. Memory is not judged: the agent measures its process, which holds both models.
 */
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import { poolStats } from '../../telemetry/domain/aggregate.js';
import type { SampleStats } from '../../telemetry/telemetry-store.js';
import type { Check, CheckStatus, HealthReport } from './health.js';
import type { RulesPolicy } from '../../deployments/domain/rules-policy.js';
import { welchWorse } from './significance.js';

/** One device's shadow windows of one candidate version, as the telemetry store aggregates them. */
export interface ShadowDeviceFigures {
  device: string;
  model_version: string;
  /** Windows with at least one sample. */
  windows: number;
  samples: number;
  dropped: number;
  errors: number;
  /** Means over the windows (null: none had the figure), and their sample standard deviations. */
  latency_p95: number | null;
  latency_p95_sd: number;
  active_latency_p95: number | null;
  active_latency_p95_sd: number;
  agreement: number | null;
  agreement_sd: number;
}

export interface ShadowFigures {
  model_version: string;
  devices: number;
  windows: number;
  samples: number;
  dropped: number;
  errors: number;
  /** Over every window of every device: the candidate's p95, the serving model's, the agreement. */
  latency_p95: SampleStats;
  active_latency_p95: SampleStats;
  agreement: SampleStats;
}

/** The candidate's figures over its devices (null without any window). */
export function shadowFiguresOf(
  version: string,
  rows: readonly ShadowDeviceFigures[],
): ShadowFigures | null {
  const mine = rows.filter((r) => r.model_version === version && r.windows > 0);
  if (mine.length === 0) return null;
  const pool = (
    mean: 'latency_p95' | 'active_latency_p95' | 'agreement',
    sd: 'latency_p95_sd' | 'active_latency_p95_sd' | 'agreement_sd',
  ) =>
    poolStats(
      mine.flatMap((r) => {
        const value = r[mean];
        return value === null ? [] : [{ n: r.windows, mean: value, sd: r[sd] }];
      }),
    );
  const sum = (key: 'windows' | 'samples' | 'dropped' | 'errors') =>
    mine.reduce((total, r) => total + r[key], 0);
  return {
    model_version: version,
    devices: mine.length,
    windows: sum('windows'),
    samples: sum('samples'),
    dropped: sum('dropped'),
    errors: sum('errors'),
    latency_p95: pool('latency_p95', 'latency_p95_sd'),
    active_latency_p95: pool('active_latency_p95', 'active_latency_p95_sd'),
    agreement: pool('agreement', 'agreement_sd'),
  };
}

const r2 = (v: number) => Math.round(v * 100) / 100;
const fmtP = (p: number) => (p < 0.0001 ? '< 0.0001' : String(Math.round(p * 10000) / 10000));

/** One-sided p of "the mean is below `floor`" (1 when it is not below), null with fewer than 2. */
export function belowFloorP(stats: SampleStats, floor: number): number | null {
  if (stats.mean >= floor) return 1;
  if (stats.n < 2) return null;
  const se = stats.sd / Math.sqrt(stats.n);
  if (!(se > 0)) return 0;
  return 1 - tCdf((floor - stats.mean) / se, stats.n - 1);
}

export function evaluateShadow(input: {
  figures: ShadowFigures | null;
  policy: RulesPolicy;
  minAgreement: number;
}): HealthReport {
  const { figures: f, policy } = input;
  if (!f || f.devices < policy.min_devices || f.windows < policy.min_samples) {
    const seen = f ? `${f.devices} device(s), ${f.windows} window(s)` : 'no shadow windows';
    return {
      verdict: 'inconclusive',
      checks: [],
      reasons: [
        `shadow: ${seen}; need ${policy.min_devices} device(s) and ${policy.min_samples} windows`,
      ],
    };
  }
  const checks: Check[] = [latencyCheck(f, policy), errorCheck(f, policy)];
  checks.push(agreementCheck(f, policy, input.minAgreement));
  const degraded = checks.filter((c) => c.status === 'degraded');
  if (degraded.length > 0)
    return { verdict: 'degraded', checks, reasons: degraded.map((c) => c.detail) };
  const unsure = checks.filter((c) => c.status === 'inconclusive');
  if (unsure.length > 0)
    return {
      verdict: 'inconclusive',
      checks,
      reasons: unsure.map((c) => `${c.detail}: past the limit but not significant`),
    };
  return { verdict: 'healthy', checks, reasons: [] };
}

function samplesOf(f: ShadowFigures): Check['samples'] {
  const side = { devices: f.devices, windows: f.windows };
  return { unit: 'windows', cohort: side, baseline: side };
}

function latencyCheck(f: ShadowFigures, policy: RulesPolicy): Check {
  const c = f.latency_p95;
  const b = f.active_latency_p95;
  const base = {
    metric: 'latency_p95' as const,
    threshold: policy.p95_rise_pct,
    floor: policy.p95_min_delta_ms,
    alpha: policy.alpha,
    samples: samplesOf(f),
  };
  if (!(b.mean > 0)) {
    return {
      ...base,
      status: 'no_data',
      cohort: c.mean,
      baseline: b.mean,
      change: null,
      p_value: null,
      detail: `the serving model's latency on the shadowed inputs is ${b.mean}`,
    };
  }
  const change = ((c.mean - b.mean) / b.mean) * 100;
  const pastLimit = change > policy.p95_rise_pct && c.mean - b.mean > policy.p95_min_delta_ms;
  const test = welchWorse(c, b, 'higher');
  const significant = test !== null && test.p < policy.alpha;
  const status: CheckStatus = !pastLimit ? 'ok' : significant ? 'degraded' : 'inconclusive';
  const pText =
    test === null
      ? 'too few windows to test'
      : `p ${fmtP(test.p)} ${significant ? '<' : '>='} ${policy.alpha}`;
  return {
    ...base,
    status,
    cohort: c.mean,
    baseline: b.mean,
    change: r2(change),
    p_value: test?.p ?? null,
    detail:
      `shadow latency_p95 ${r2(c.mean)} ms vs ${r2(b.mean)} ms serving on the same inputs ` +
      `(${change >= 0 ? '+' : ''}${r2(change)} %, limit +${policy.p95_rise_pct} % and ${policy.p95_min_delta_ms} ms; ${pText}; ${f.windows} windows on ${f.devices} devices)`,
  };
}

function errorCheck(f: ShadowFigures, policy: RulesPolicy): Check {
  const runs = f.samples + f.errors;
  const base = {
    metric: 'error_rate' as const,
    baseline: null,
    change: null,
    threshold: policy.error_rate_max_pct,
  };
  if (runs === 0)
    return { ...base, status: 'no_data', cohort: null, detail: 'no shadow inferences' };
  const rate = (f.errors / runs) * 100;
  return {
    ...base,
    status: rate > policy.error_rate_max_pct ? 'degraded' : 'ok',
    cohort: r2(rate),
    detail: `shadow error rate ${r2(rate)} % (${f.errors} errors / ${runs} inferences, limit ${policy.error_rate_max_pct} %)`,
  };
}

function agreementCheck(f: ShadowFigures, policy: RulesPolicy, floor: number): Check {
  const stats = f.agreement;
  if (stats.n === 0) {
    return {
      metric: 'agreement',
      status: 'no_data',
      cohort: null,
      baseline: null,
      change: null,
      threshold: floor,
      detail: 'no shadow agreement reported',
    };
  }
  const p = belowFloorP(stats, floor);
  const below = stats.mean < floor;
  const significant = p !== null && p < policy.alpha;
  const status: CheckStatus = !below ? 'ok' : significant ? 'degraded' : 'inconclusive';
  const pText = !below
    ? ''
    : p === null
      ? '; too few windows to test'
      : `; p ${fmtP(p)} ${significant ? '<' : '>='} ${policy.alpha}`;
  return {
    metric: 'agreement',
    status,
    cohort: r2(stats.mean),
    baseline: null,
    change: null,
    threshold: floor,
    p_value: below ? p : null,
    alpha: policy.alpha,
    samples: samplesOf(f),
    detail: `shadow agreement ${r2(stats.mean)} with the serving model (minimum ${floor}${pText}; ${f.samples} samples, ${f.dropped} dropped)`,
  };
}
