import { RecentTelemetry, type RecentTelemetryOptions } from './domain/recent-telemetry.js';
import type {
  AggregateQuery,
  DeploymentEventPoint,
  TelemetryPoint,
  TelemetryStore,
  DeviceAggregate,
  SeriesQuery,
  ShadowDeviceAggregate,
  ShadowQuery,
} from './telemetry-store.js';
import type { Series } from './domain/telemetry-query.js';

/**
 * A telemetry store with the recent points it accepted kept in memory (RecentTelemetry): the rules'
 * windows are aggregated from memory when it covers them, from the store otherwise (after a
 * restart, or for a window longer than the span). Writes and events go to the store unchanged.
 */
export class CachedTelemetryStore implements TelemetryStore {
  readonly recent: RecentTelemetry;

  constructor(
    private readonly store: TelemetryStore,
    options: RecentTelemetryOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.recent = new RecentTelemetry(options);
    if (store.prune) this.prune = store.prune.bind(store);
  }

  get kind(): TelemetryStore['kind'] {
    return this.store.kind;
  }

  init(): Promise<void> {
    return this.store.init();
  }

  async write(points: readonly TelemetryPoint[]): Promise<void> {
    await this.store.write(points);
    this.recent.add(points);
    this.recent.prune(this.now());
  }

  /** Only when the store has it (the embedded one: its retention policy). */
  readonly prune?: (now?: Date) => Promise<number>;

  writeEvents(events: readonly DeploymentEventPoint[]): Promise<void> {
    return this.store.writeEvents(events);
  }

  async aggregateByDevice(query: AggregateQuery): Promise<DeviceAggregate[]> {
    return this.recent.aggregate(query, this.now()) ?? this.store.aggregateByDevice(query);
  }

  /** Always the store's: the cache keeps no shadow figures. */
  aggregateShadow(query: ShadowQuery): Promise<ShadowDeviceAggregate[]> {
    return this.store.aggregateShadow(query);
  }

  /** Always the store's: the console reads ranges far longer than the cache's span. */
  querySeries(query: SeriesQuery): Promise<Series[]> {
    return this.store.querySeries(query);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
