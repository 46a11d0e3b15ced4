/**
 * Welch's two-sample t-test from summary statistics (n, mean, sd of each side), one-sided: is the
 * new version worse than the baseline? Welch does not assume equal variances, suits small samples
 * of noisy, roughly normal figures (window means), and needs only what the stores aggregate, so a
 * baseline kept as figures can be tested again and again. The t distribution is stdlib's.
 */
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import type { SampleStats } from '../../telemetry/telemetry-store.js';

export interface WelchResult {
  /** One-sided p-value of "new is worse than baseline" (1 when new is better or equal). */
  p: number;
  t: number;
  df: number;
}

/**
 * `worse: 'lower'`: the alternative is mean(new) < mean(baseline) (FPS); `'higher'`: mean(new) >
 * mean(baseline) (latency, memory). Null when a side has fewer than 2 values. Two sides without
 * any variance are a certain difference (p 0) when their means differ, none (p 1) when equal.
 */
export function welchWorse(
  next: SampleStats,
  baseline: SampleStats,
  worse: 'lower' | 'higher',
): WelchResult | null {
  if (next.n < 2 || baseline.n < 2) return null;
  const diff = worse === 'higher' ? next.mean - baseline.mean : baseline.mean - next.mean;
  const a = next.sd ** 2 / next.n;
  const b = baseline.sd ** 2 / baseline.n;
  const se = Math.sqrt(a + b);
  if (!(se > 0)) {
    return { p: diff > 0 ? 0 : 1, t: diff > 0 ? Infinity : 0, df: next.n + baseline.n - 2 };
  }
  const t = diff / se;
  const df = (a + b) ** 2 / (a ** 2 / (next.n - 1) + b ** 2 / (baseline.n - 1));
  return { p: 1 - tCdf(t, df), t, df };
}
