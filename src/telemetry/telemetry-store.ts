/** The telemetry store port: InfluxDB (INFLUX_URL) or a table of the SQL database (embedded). */

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
 * Figures of one model version over a window: per device first (means), then across devices, so
 * a chatty device weighs as much as a quiet one.
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
  memory_mb: number;
  frames: number;
  errors: number;
  /** Mean of the devices' mean mAP, or null when no device reported one. */
  map: number | null;
}

export interface AggregateQuery {
  deployment: string;
  from: Date;
  to: Date;
}

export interface TelemetryStore {
  readonly kind: 'influxdb' | 'embedded';
  /** Creates what the store needs (database, retention policy); safe to call at every start. */
  init(): Promise<void>;
  write(points: readonly TelemetryPoint[]): Promise<void>;
  writeEvents(events: readonly DeploymentEventPoint[]): Promise<void>;
  aggregateByVersion(query: AggregateQuery): Promise<VersionAggregate[]>;
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

interface DeviceRow {
  model_version: string;
  fps: number;
  p95: number;
  mem: number;
  frames: number;
  errors: number;
  map: number | null;
  samples: number;
}

/** Folds per-(version, device) rows into per-version aggregates. Pure; shared by both engines. */
export function combineDeviceRows(rows: readonly DeviceRow[]): VersionAggregate[] {
  const byVersion = new Map<string, DeviceRow[]>();
  for (const row of rows) {
    const list = byVersion.get(row.model_version) ?? [];
    list.push(row);
    byVersion.set(row.model_version, list);
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return [...byVersion.entries()]
    .map(([model_version, devices]) => {
      const maps = devices
        .map((d) => d.map)
        .filter((m): m is number => m !== null && Number.isFinite(m));
      return {
        model_version,
        devices: devices.length,
        samples: devices.reduce((a, d) => a + d.samples, 0),
        fps: mean(devices.map((d) => d.fps)),
        latency_p95: mean(devices.map((d) => d.p95)),
        memory_mb: mean(devices.map((d) => d.mem)),
        frames: devices.reduce((a, d) => a + d.frames, 0),
        errors: devices.reduce((a, d) => a + d.errors, 0),
        map: maps.length > 0 ? mean(maps) : null,
      };
    })
    .sort((a, b) => a.model_version.localeCompare(b.model_version));
}

export type { DeviceRow };
