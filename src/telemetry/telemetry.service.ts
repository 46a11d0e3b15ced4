import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ALL_DEVICE_TELEMETRY, parseMessage, parseTopic } from '@sentinel/broker';
import { BrokerService } from '../broker/broker.service.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { toPoint } from './domain/telemetry-point.js';
import type { ScopeProblem } from './domain/telemetry-scope.js';
import { TelemetryScope } from './telemetry-scope.js';
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
/** Windows waiting for a look-up (a device or deployment not seen yet); beyond this they are dropped. */
const MAX_UNRESOLVED = 10_000;
const PRUNE_MS = 3_600_000;

/**
 * Telemetry ingest: every `devices/+/telemetry` message is validated, tagged with the device's
 * group and environment (from a cache, not a query per message), checked against what the device
 * may speak for (TelemetryScope: its own group's deployments, the models in its slots) and queued;
 * a timer writes the
 * queue in batches. The broker's handler only parses and queues, so a slow or absent store never
 * holds the broker up: the queue is bounded, overflow drops the oldest points (counted), failed
 * writes are retried with backoff, and points the store refuses for good are dropped (counted).
 */
@Injectable()
export class TelemetryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Telemetry');
  private readonly buffer: WriteBuffer<TelemetryPoint>;
  private timers: NodeJS.Timeout[] = [];
  private initialised = false;
  private initWarned = false;
  private initialising?: Promise<void>;
  private refusedUnlogged = 0;
  private refusalLoggedAt = -Infinity;
  private unresolved: TelemetryPoint[] = [];
  private resolving: Promise<void> | null = null;
  private scopeUnlogged = 0;
  private scopeLoggedAt = -Infinity;

  constructor(
    @Inject(TELEMETRY_STORE) readonly store: TelemetryStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly broker: BrokerService,
    private readonly scope: TelemetryScope,
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
    await this.scope.start();
    // Only the windows of devices connected to this hub (HubMqtt.consume): once per cluster.
    await this.broker.mqtt.consume(ALL_DEVICE_TELEMETRY, (topic, payload) =>
      this.receive(topic, payload),
    );
    this.timers.push(
      setInterval(() => {
        this.metrics.telemetryBuffered.set(this.buffer.size);
        void this.buffer.flush();
      }, FLUSH_MS).unref(),
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
    this.scope.stop();
    await this.flush().catch(() => undefined);
    await this.store.close();
  }

  /** Points waiting to be written, and consecutive failed writes (for /health and tests). */
  get backlog(): { buffered: number; failing: number } {
    return { buffered: this.buffer.size, failing: this.buffer.failing };
  }

  /** Writes what is queued now, after the windows waiting for a look-up (tests; shutdown). */
  async flush(): Promise<void> {
    await this.resolving;
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
    const point = toPoint(message.value, this.scope.placement(parsed.device));
    const problem = this.scope.check(point);
    if (problem === undefined) return this.resolveLater(point);
    this.admit(point, problem);
  }

  private admit(point: TelemetryPoint, problem: ScopeProblem | null): void {
    if (problem === null) {
      this.buffer.push(point);
      return;
    }
    // A window for another group's deployment, or a model the device does not hold: the rules would
    // count it in someone else's verdict.
    this.metrics.telemetryDropped.inc({ reason: problem });
    this.scopeUnlogged++;
    const now = Date.now();
    if (now - this.scopeLoggedAt < REFUSAL_LOG_MS) return;
    this.logger.warn(
      `dropped ${this.scopeUnlogged} telemetry window(s) a device may not send (latest: ${point.tags.device}, ${problem}, deployment ${point.tags.deployment}, model ${point.tags.model_id})`,
    );
    this.scopeUnlogged = 0;
    this.scopeLoggedAt = now;
  }

  /** Windows that need a look-up first wait here, in order, and are judged in batches. */
  private resolveLater(point: TelemetryPoint): void {
    if (this.unresolved.length >= MAX_UNRESOLVED) {
      this.metrics.telemetryDropped.inc({ reason: 'overflow' });
      return;
    }
    this.unresolved.push(point);
    this.resolving ??= (async () => {
      try {
        while (this.unresolved.length > 0) {
          const batch = this.unresolved;
          this.unresolved = [];
          const problems = await this.scope.resolve(batch).catch((error: Error) => {
            this.logger.warn(`could not check telemetry windows: ${error.message}`);
            return batch.map(() => null);
          });
          batch.forEach((point, i) => this.admit(point, problems[i]));
        }
      } finally {
        this.resolving = null;
      }
    })();
  }

  private async writeBatch(batch: TelemetryPoint[]): Promise<void> {
    // Init (database, retention policy) is retried before writes but never blocks them: InfluxDB
    // 2.x/3.x map the database to a bucket (DBRP) and may refuse the CREATE statements.
    if (!this.initialised) await this.initStore();
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
}
