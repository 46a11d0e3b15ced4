// Seeded raw inference latencies, and their exact percentile: what the latency histograms'
// percentiles are checked against (aggregate.spec, the stores' histogram contract).

/** A small seeded PRNG (mulberry32): the same samples on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log-normal latency around `median` ms with a `sigma` spread, and 2 % slow outliers (x8). */
export function latency(random: () => number, median: number, sigma = 0.35): number {
  const u = Math.max(random(), 1e-12);
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  const value = median * Math.exp(sigma * normal);
  return random() < 0.02 ? value * 8 : value;
}

/** `n` latencies around `median` ms from `random`. */
export function latencies(random: () => number, n: number, median: number): number[] {
  return Array.from({ length: n }, () => latency(random, median));
}

/** Nearest-rank percentile of raw values (the agent's and the histogram's definition). */
export function exactPercentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}
