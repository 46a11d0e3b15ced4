import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ALL_DEVICE_TELEMETRY, parseMessage, parseTopic } from '@sentinel/broker';
import { DataSource } from 'typeorm';
import { BrokerService } from '../broker/broker.service.js';
import { FleetEvents } from '../fleet/fleet-events.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { toPoint, type DevicePlacement } from './domain/telemetry-point.js';
import { WriteBuffer } from './domain/write-buffer.js';
import {
  TELEMETRY_STORE,
  TelemetryRejectedError,
  type TelemetryPoint,
  type TelemetryStore,
} from './telemetry-store.js';

const FLUSH_MS = 500;
const BATCH_POINTS = 5000;
/** Batches written at the same time: encoding and InfluxDB's parsing overlap. */
const WRITE_CONCURRENCY = 3;
/** At most one warning per minute about points the store refused (they are all counted). */
const REFUSAL_LOG_MS = 60_000;
const PLACEMENT_REFRESH_MS = 30_000;
const PRUNE_MS = 3_600_000;

/**
 * Telemetry ingest: every `devices/+/telemetry` message is validated, tagged with the device's
 * group and environment (from a cache, not a query per message) and queued; a timer writes the
 * queue in batches. The broker's handler only parses and queues, so a slow or absent store never
 * holds the broker up: the queue is bounded, overflow drops the oldest points (counted), failed
 * writes are retried with backoff, and points the store refuses for good are dropped (counted).
 */
@Injectable()
export class TelemetryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Telemetry');
  private readonly buffer: WriteBuffer<TelemetryPoint>;
  private placements = new Map<string, DevicePlacement>();
  private timers: NodeJS.Timeout[] = [];
  private initialised = false;
  private initWarned = false;
  private refreshing?: Promise<void>;
  private initialising?: Promise<void>;
  private refusedUnlogged = 0;
  private refusalLoggedAt = -Infinity;
  private missed = false;

  constructor(
    @Inject(TELEMETRY_STORE) readonly store: TelemetryStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly broker: BrokerService,
    private readonly dataSource: DataSource,
    private readonly fleetEvents: FleetEvents,
    private readonly metrics: MetricsService,
  ) {
    this.buffer = new WriteBuffer<TelemetryPoint>({
      capacity: config.TELEMETRY_BUFFER_POINTS,
      batchSize: BATCH_POINTS,
      concurrency: WRITE_CONCURRENCY,
      minBackoffMs: 500,
      maxBackoffMs: 30_000,
      write: (batch) => this.writeBatch(batch),
      refused: (error, n) =>
        error instanceof TelemetryRejectedError ? (error.rejected ?? n) : null,
      onWritten: (n) => this.metrics.telemetryWritten.inc(n),
      onDropped: (n) => this.metrics.telemetryDropped.inc({ reason: 'overflow' }, n),
      onRefused: (n, error) => {
        // Not retried: the same points would be refused again and block the queue.
        this.metrics.telemetryDropped.inc({ reason: 'rejected' }, n);
        this.refusedUnlogged += n;
        // A device that keeps sending what the store refuses would otherwise log every batch.
        const now = Date.now();
        if (now - this.refusalLoggedAt < REFUSAL_LOG_MS) return;
        this.logger.warn(
          `telemetry store refused ${this.refusedUnlogged} points (dropped, not retried): ${error.message}`,
        );
        this.refusedUnlogged = 0;
        this.refusalLoggedAt = now;
      },
      onError: (error, attempt) => {
        this.metrics.telemetryWriteFailures.inc();
        if (attempt === 1 || attempt % 10 === 0) {
          this.logger.warn(
            `telemetry store write failed (attempt ${attempt}, ${this.buffer.size} buffered): ${error.message}`,
          );
        }
      },
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.initStore();
    await this.refreshPlacements();
    for (const event of ['device.moved', 'device.deleted', 'group.deleted'] as const) {
      this.fleetEvents.on(event, () => void this.refreshPlacements());
    }
    await this.broker.mqtt.subscribe(ALL_DEVICE_TELEMETRY, (topic, payload) =>
      this.receive(topic, payload),
    );
    this.timers.push(
      setInterval(() => {
        this.metrics.telemetryBuffered.set(this.buffer.size);
        void this.buffer.flush();
      }, FLUSH_MS).unref(),
      setInterval(() => void this.refreshPlacements(), PLACEMENT_REFRESH_MS).unref(),
    );
    const store = this.store;
    if (store.prune) {
      // The embedded store's retention policy.
      const prune = () =>
        void store.prune!().catch((error: Error) =>
          this.logger.warn(`telemetry prune failed: ${error.message}`),
        );
      prune();
      this.timers.push(setInterval(prune, PRUNE_MS).unref());
    }
  }

  async onApplicationShutdown(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.buffer.flush().catch(() => undefined);
    await this.store.close();
  }

  /** Points waiting to be written, and consecutive failed writes (for /health and tests). */
  get backlog(): { buffered: number; failing: number } {
    return { buffered: this.buffer.size, failing: this.buffer.failing };
  }

  /** Writes what is queued now (tests; shutdown). */
  flush(): Promise<void> {
    return this.buffer.flush();
  }

  private receive(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed || parsed.kind !== 'device_telemetry') return;
    const message = parseMessage('telemetry', payload);
    if (!message.ok || message.value.device_id !== parsed.device) {
      this.metrics.telemetryDropped.inc({ reason: 'invalid' });
      this.metrics.mqttDropped.inc({
        kind: 'telemetry',
        reason: message.ok ? 'device_mismatch' : 'schema',
      });
      return;
    }
    this.metrics.telemetryReceived.inc();
    const placement = this.placements.get(parsed.device);
    if (!placement) this.missed = true;
    this.buffer.push(toPoint(message.value, placement));
  }

  private async writeBatch(batch: TelemetryPoint[]): Promise<void> {
    // Init (database, retention policy) is retried before writes but never blocks them: InfluxDB
    // 2.x/3.x map the database to a bucket (DBRP) and may refuse the CREATE statements.
    if (!this.initialised) await this.initStore();
    if (this.missed) void this.refreshPlacements();
    await this.store.write(batch);
  }

  /** One init at a time: the write lanes may all find the store unprepared at once. */
  private initStore(): Promise<void> {
    this.initialising ??= this.tryInit().finally(() => (this.initialising = undefined));
    return this.initialising;
  }

  private async tryInit(): Promise<void> {
    try {
      await this.store.init();
      this.initialised = true;
    } catch (error) {
      // The store may come up later; writes retry init first.
      if (!this.initWarned) {
        this.logger.warn(
          `telemetry store (${this.store.kind}) could not be prepared: ${(error as Error).message}`,
        );
        this.initWarned = true;
      }
    }
  }

  private refreshPlacements(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        this.missed = false;
        const rows: { id: string; group: string | null; environment: string | null }[] =
          await this.dataSource.query(
            `SELECT d.id, g.name AS "group", g.environment FROM devices d LEFT JOIN device_groups g ON g.id = d.group_id`,
          );
        this.placements = new Map(
          rows.map((r) => [
            r.id,
            { group: r.group ?? 'none', environment: r.environment ?? 'none' },
          ]),
        );
      } catch (error) {
        this.logger.warn(`could not load device placements: ${(error as Error).message}`);
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}
