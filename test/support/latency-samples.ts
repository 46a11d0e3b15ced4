// Seeded raw inference latencies, and their exact percentile: what the latency histograms'
// percentiles are checked against (aggregate.spec, the stores' histogram contract).
import { normal } from '@sentinel/broker/testing';

/** A log-normal latency around `median` ms with a `sigma` spread, and 2 % slow outliers (x8). */
export function latency(random: () => number, median: number, sigma = 0.35): number {
  const value = median * Math.exp(sigma * normal(random));
  return random() < 0.02 ? value * 8 : value;
}

/** `n` latencies around `median` ms from `random`. */
export function latencies(random: () => number, n: number, median: number): number[] {
  return Array.from({ length: n }, () => latency(random, median));
}
