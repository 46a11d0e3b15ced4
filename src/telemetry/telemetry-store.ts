/** The telemetry store port: InfluxDB (INFLUX_URL) or a table of the SQL database (embedded). */
import type { LatencyHistogram } from '@sentinel/broker';
import type { Series, TelemetryRange } from './domain/telemetry-query.js';

export interface TelemetryTags {
  device: string;
  group: string;
  environment: string;
  /** Deployment id, or "none". */
  deployment: string;
  model_id: string;
  model_version: string;
  slot: string;
}

export interface TelemetryPoint {
  time: Date;
  tags: TelemetryTags;
  frames: number;
  fps: number;
  latency_p50: number;
  latency_p95: number;
  latency_max: number;
  memory_mb: number;
  errors: number;
  window_s: number;
  map?: number;
  /** The window's latency histogram (`latency_hist` of the message), from agents that send one. */
  latency_hist?: LatencyHistogram;
  /** The window's shadow verification (the telemetry's `shadow` block), from agents in a shadow phase. */
  shadow?: ShadowPoint;
  /**
   * The named model the window is about (docs/protocol.md 6.6), absent for `default`: checked
   * against that model's slots at ingest, not stored (the deployment and model ids say the rest).
   */
  serve_as?: string;
}

/**
 * The candidate (the model in the standby slot) against the serving model on the same inputs over
 * one window. Latencies and agreement are absent when the candidate ran no sample (`samples` 0).
 */
export interface ShadowPoint {
  /** The block's deployment id, or "none": checked to be the window's own, not stored apart. */
  deployment: string;
  model_id: string;
  model_version: string;
  comparison: 'top1' | 'boxes' | 'cosine';
  samples: number;
  dropped: number;
  errors: number;
  latency_p50?: number;
  latency_p95?: number;
  active_latency_p50?: number;
  active_latency_p95?: number;
  agreement?: number;
}

/** One deployment transition, for dashboards (Grafana annotations). */
export interface DeploymentEventPoint {
  time: Date;
  deployment: string;
  type: string;
  environment: string;
  text: string;
  model_version: string;
  actor: string;
  groups: string;
}

/**
 * One device's telemetry windows of one model version over a query's time range: means over its
 * windows, and their sample standard deviation (0 for a single window).
 */
export interface DeviceAggregate {
  device: string;
  model_version: string;
  /** Telemetry windows counted. */
  samples: number;
  fps: number;
  fps_sd: number;
  /** Mean of the windows' p95 latency, ms. */
  latency_p95: number;
  latency_p95_sd: number;
  memory_mb: number;
  memory_mb_sd: number;
  frames: number;
  errors: number;
  /** Mean mAP of the windows that reported one, else null. */
  map: number | null;
  /**
   * The latency histograms of the device's windows merged into one (canonical form), or null (or
   * absent) when none of its windows had one.
   */
  latency_hist?: LatencyHistogram | null;
}

/**
 * One device's shadow windows of one candidate version over a deployment's time range, counting only
 * windows where the candidate ran samples (> 0): sums, and per metric the mean over the windows that
 * carry it and its sample standard deviation (0 for a single window; null mean: none carried it).
 */
export interface ShadowDeviceAggregate {
  device: string;
  /** The candidate's model id and version, and how outputs were compared. */
  model_id: string;
  model_version: string;
  comparison: string;
  /** Shadow windows counted (samples > 0). */
  windows: number;
  samples: number;
  dropped: number;
  errors: number;
  /** Mean of the windows' candidate p95 latency, ms. */
  latency_p95: number | null;
  latency_p95_sd: number;
  /** Mean of the windows' p95 latency of the serving model on the same inputs, ms. */
  active_latency_p95: number | null;
  active_latency_p95_sd: number;
  /** Mean of the windows' agreement, 0..1. */
  agreement: number | null;
  agreement_sd: number;
}

/** A deployment's time range, for its shadow figures. */
export interface ShadowQuery {
  deployment: string;
  from: Date;
  to: Date;
}

/** n, mean and sample standard deviation of a set of values. */
export interface SampleStats {
  n: number;
  mean: number;
  sd: number;
}

/** A metric's spread two ways: over every telemetry window, and over the devices' means. */
export interface Spread {
  windows: SampleStats;
  devices: SampleStats;
}

export const SPREAD_METRICS = ['fps', 'latency_p95', 'memory_mb'] as const;
export type SpreadMetric = (typeof SPREAD_METRICS)[number];

/**
 * Figures of one model version over a window: per device first (means), then across devices, so
 * a chatty device weighs as much as a quiet one; `spread` adds what a significance test needs.
 */
export interface VersionAggregate {
  model_version: string;
  devices: number;
  /** Telemetry windows counted. */
  samples: number;
  /** Mean of the devices' mean FPS. */
  fps: number;
  /** Mean of the devices' mean p95 latency, ms. */
  latency_p95: number;
  /**
   * The 95th percentile of every inference of the devices that sent latency histograms (their
   * merged histograms, within LATENCY_HIST_RELATIVE_ERROR), ms; null when no device sent one.
   */
  latency_p95_fleet: number | null;
  memory_mb: number;
  frames: number;
  errors: number;
  /** Mean of the devices' mean mAP, or null when no device reported one. */
  map: number | null;
  spread: Record<SpreadMetric, Spread>;
}

/**
 * A time range of one deployment's telemetry (what its devices reported while they followed it),
 * or of whole groups whatever deployment their devices followed (the window before a step).
 */
export type AggregateQuery = { from: Date; to: Date } & (
  | { deployment: string; groups?: undefined; models?: undefined }
  | {
      groups: string[];
      deployment?: undefined;
      /**
       * Only windows of these model versions (ids, the points' `model_id`): a device serving several
       * named models sends windows of each to the same group, and two of them may share a version
       * string.
       */
      models?: readonly string[];
    }
);

/**
 * Telemetry over time (`GET /api/v1/telemetry`): a range in buckets of `stepS` seconds (aligned to
 * the Unix epoch), by model version or by device and model version, with optional filters (all
 * must match). `modelVersion` is the model version's id (the points' `model_id` tag).
 */
export interface SeriesQuery extends TelemetryRange {
  device?: string;
  modelVersion?: string;
  deployment?: string;
  group?: string;
}

export interface TelemetryStore {
  readonly kind: 'influxdb' | 'embedded';
  /** Creates what the store needs (database, retention policy); safe to call at every start. */
  init(): Promise<void>;
  write(points: readonly TelemetryPoint[]): Promise<void>;
  writeEvents(events: readonly DeploymentEventPoint[]): Promise<void>;
  /** One row per (device, model version) with telemetry in the range; see telemetry/domain/aggregate. */
  aggregateByDevice(query: AggregateQuery): Promise<DeviceAggregate[]>;
  /**
   * One row per (device, candidate model version) with shadow windows (samples > 0) of the
   * deployment in the range; see telemetry/domain/shadow-aggregate. Sorted by device, then version.
   */
  aggregateShadow(query: ShadowQuery): Promise<ShadowDeviceAggregate[]>;
  /**
   * Series over time, one per model version (`by: 'device'`: per device and model version), each
   * bucket with the means of fps, latencies, memory and mAP (null without one), the sums of frames
   * and errors and the windows counted; empty buckets left out. Sorted as seriesOf sorts them.
   */
  querySeries(query: SeriesQuery): Promise<Series[]>;
  /** Deletes points older than the retention: stores without a retention policy of their own. */
  prune?(now?: Date): Promise<number>;
  close(): Promise<void>;
}

export const TELEMETRY_STORE = Symbol('TELEMETRY_STORE');

/**
 * The store refused the points themselves (InfluxDB's HTTP 400: a field type conflict, a partial
 * write, a line it cannot parse): the same batch would be refused again, so it is dropped rather
 * than retried. Any other failure (store down, 5xx, wrong credentials or database) is transient.
 */
export class TelemetryRejectedError extends Error {
  override readonly name = 'TelemetryRejectedError';

  /**
   * @param rejected points of the batch that were refused when the store says so (InfluxDB 1.x's
   *   "partial write: ... dropped=N"; the rest were stored), else undefined: all of them.
   */
  constructor(
    message: string,
    readonly rejected?: number,
  ) {
    super(message);
  }
}
