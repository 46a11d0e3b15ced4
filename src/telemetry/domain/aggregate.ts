/**
 * Per-device telemetry rows folded into per-version figures. Pure; every store returns device rows
 * (InfluxDB, the SQL table and the in-memory cache alike) and this one arithmetic does the rest.
 */
import {
  histogramFromCounts,
  histogramPercentile,
  LATENCY_BUCKET_COUNT,
  mergeHistograms,
  type LatencyHistogram,
} from '@sentinel/broker';
import { addHistogram, type PackedHistogram } from './stored-histogram.js';
import {
  SPREAD_METRICS,
  type DeviceAggregate,
  type SampleStats,
  type Spread,
  type SpreadMetric,
  type VersionAggregate,
} from '../telemetry-store.js';

/** n, mean and sample standard deviation of plain values. */
export function statsOf(values: readonly number[]): SampleStats {
  const n = values.length;
  if (n === 0) return { n: 0, mean: 0, sd: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, mean, sd: 0 };
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { n, mean, sd: Math.sqrt(ss / (n - 1)) };
}

/**
 * Groups of values given by their own n, mean and sd, as one set (the windows of several devices):
 * the pooled mean, and the standard deviation of all the values together (within plus between).
 */
export function poolStats(groups: readonly SampleStats[]): SampleStats {
  const n = groups.reduce((a, g) => a + g.n, 0);
  if (n === 0) return { n: 0, mean: 0, sd: 0 };
  const mean = groups.reduce((a, g) => a + g.n * g.mean, 0) / n;
  if (n === 1) return { n, mean, sd: 0 };
  const ss = groups.reduce(
    (a, g) => a + (g.n > 1 ? (g.n - 1) * g.sd ** 2 : 0) + g.n * (g.mean - mean) ** 2,
    0,
  );
  return { n, mean, sd: Math.sqrt(Math.max(ss, 0) / (n - 1)) };
}

const SD_FIELD: Record<SpreadMetric, 'fps_sd' | 'latency_p95_sd' | 'memory_mb_sd'> = {
  fps: 'fps_sd',
  latency_p95: 'latency_p95_sd',
  memory_mb: 'memory_mb_sd',
};

function spreadOf(devices: readonly DeviceAggregate[], metric: SpreadMetric): Spread {
  return {
    windows: poolStats(
      devices.map((d) => ({ n: d.samples, mean: d[metric], sd: d[SD_FIELD[metric]] })),
    ),
    devices: statsOf(devices.map((d) => d[metric])),
  };
}

/**
 * The p-th percentile (0..100) of every inference of the devices that sent latency histograms: the
 * percentile of their merged histograms (within LATENCY_HIST_RELATIVE_ERROR of the exact one over
 * all the raw latencies), ms; null when no device has a histogram, or they hold no inference.
 */
export function fleetPercentile(devices: readonly DeviceAggregate[], p: number): number | null {
  const hists = devices
    .map((d) => d.latency_hist)
    .filter((h): h is LatencyHistogram => h !== null && h !== undefined);
  if (hists.length === 0) return null;
  return histogramPercentile(mergeHistograms(hists), p);
}

/** The figures of one set of device rows (one version, or several merged), or null for none. */
export function versionOf(
  model_version: string,
  devices: readonly DeviceAggregate[],
): VersionAggregate | null {
  if (devices.length === 0) return null;
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const maps = devices
    .map((d) => d.map)
    .filter((m): m is number => m !== null && Number.isFinite(m));
  return {
    model_version,
    devices: devices.length,
    samples: devices.reduce((a, d) => a + d.samples, 0),
    fps: mean(devices.map((d) => d.fps)),
    latency_p95: mean(devices.map((d) => d.latency_p95)),
    latency_p95_fleet: fleetPercentile(devices, 95),
    memory_mb: mean(devices.map((d) => d.memory_mb)),
    frames: devices.reduce((a, d) => a + d.frames, 0),
    errors: devices.reduce((a, d) => a + d.errors, 0),
    map: maps.length > 0 ? mean(maps) : null,
    spread: Object.fromEntries(
      SPREAD_METRICS.map((metric) => [metric, spreadOf(devices, metric)]),
    ) as Record<SpreadMetric, Spread>,
  };
}

/** Per-version figures, by version name. */
export function byVersion(rows: readonly DeviceAggregate[]): VersionAggregate[] {
  const grouped = new Map<string, DeviceAggregate[]>();
  for (const row of rows) {
    const list = grouped.get(row.model_version) ?? [];
    list.push(row);
    grouped.set(row.model_version, list);
  }
  return [...grouped.entries()]
    .map(([version, devices]) => versionOf(version, devices)!)
    .sort((a, b) => a.model_version.localeCompare(b.model_version));
}

/** Accumulates windows of one device and version (the in-memory cache's per-device rows). */
export class DeviceAccumulator {
  private n = 0;
  private readonly sums = { fps: 0, latency_p95: 0, memory_mb: 0 };
  private readonly squares = { fps: 0, latency_p95: 0, memory_mb: 0 };
  private frames = 0;
  private errors = 0;
  private mapSum = 0;
  private mapCount = 0;
  /** Per-bucket counts of the windows' histograms; null until a window has one. */
  private counts: number[] | null = null;

  constructor(
    private readonly device: string,
    private readonly version: string,
  ) {}

  add(window: {
    fps: number;
    latency_p95: number;
    memory_mb: number;
    frames: number;
    errors: number;
    map?: number;
    latency_hist?: LatencyHistogram | PackedHistogram;
  }): void {
    this.n++;
    for (const metric of SPREAD_METRICS) {
      this.sums[metric] += window[metric];
      this.squares[metric] += window[metric] ** 2;
    }
    this.frames += window.frames;
    this.errors += window.errors;
    if (window.map !== undefined && Number.isFinite(window.map)) {
      this.mapSum += window.map;
      this.mapCount++;
    }
    if (window.latency_hist !== undefined) {
      this.counts ??= new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
      addHistogram(this.counts, window.latency_hist);
    }
  }

  row(): DeviceAggregate {
    const n = this.n;
    const moments = (metric: SpreadMetric) => {
      const mean = this.sums[metric] / n;
      const ss = this.squares[metric] - n * mean ** 2;
      return { mean, sd: n > 1 ? Math.sqrt(Math.max(ss, 0) / (n - 1)) : 0 };
    };
    const fps = moments('fps');
    const p95 = moments('latency_p95');
    const mem = moments('memory_mb');
    return {
      device: this.device,
      model_version: this.version,
      samples: n,
      fps: fps.mean,
      fps_sd: fps.sd,
      latency_p95: p95.mean,
      latency_p95_sd: p95.sd,
      memory_mb: mem.mean,
      memory_mb_sd: mem.sd,
      frames: this.frames,
      errors: this.errors,
      map: this.mapCount > 0 ? this.mapSum / this.mapCount : null,
      latency_hist: this.counts ? histogramFromCounts(this.counts) : null,
    };
  }
}
