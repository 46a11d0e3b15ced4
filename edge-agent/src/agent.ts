import { join } from 'node:path';
import {
  DEFAULT_MODEL_NAME,
  type Command,
  type DeploymentProgress,
  type DesiredState,
  type Slot,
} from '@sentinel/broker/protocol';
import type { AgentConfig } from './config.js';
import { basicAuth, credentialOrigins } from './download/credentials.js';
import { ModelCache } from './download/downloader.js';
import { localCapabilities } from './capabilities/capabilities.js';
import { AgentError } from './errors.js';
import { SessionPool } from './inference/session-pool.js';
import type { InferenceResult } from './inference/slots.js';
import type { Feeds } from './inference/tensors.js';
import { LocalApi } from './api/local-api.js';
import { UpdateLock, type UpdateLockStatus } from './api/update-lock.js';
import { MqttLink } from './link/mqtt-link.js';
import { silentLogger, withFields, type Logger } from './log.js';
import { ErrorLog } from './report/error-log.js';
import { Reporter, type ModelsReport } from './report/reporter.js';
import {
  DEFAULT_TELEMETRY_RATE_PER_S,
  routeCommand,
  telemetryPerSecond,
} from './state/model-routing.js';
import { ModelUnit, type ModelStatus, type SlotStatus } from './unit/model-unit.js';
import { ModelUnits, unitStatePath } from './unit/model-units.js';

export { AGENT_VERSION } from './report/reporter.js';
export type { ModelStatus } from './unit/model-unit.js';

export interface AgentDeps {
  /** Shared by the fleet simulator's agents; one per agent otherwise. */
  pool?: SessionPool;
  cache?: ModelCache;
  logger?: Logger;
  /** false keeps the slot state in memory only (fleet simulator). */
  persist?: boolean;
}

export interface AgentStatus {
  device_id: string;
  group: string | null;
  connected: boolean;
  /** The default model (POST /v1/infer). */
  active_slot: Slot | null;
  slots: Record<Slot, SlotStatus>;
  deployment: DeploymentProgress | null;
  downloads: number;
  inferences: number;
  inference_errors: number;
  invalid_messages: number;
  swaps: number;
  errors: string[];
  api: string | null;
  /** The application's update lock (PUT /v1/update-lock), null when none is held. */
  update_lock: UpdateLockStatus | null;
  /** The named models besides the default one (POST /v1/models/{name}/infer), by name. */
  models: Record<string, ModelStatus>;
}

/** Thrown by `infer` for a model name the device does not serve. */
export class UnknownModelError extends Error {
  override name = 'UnknownModelError';
}

/**
 * One device, composed of its parts: its models (`default` and any named ones, each a ModelUnit
 * with its own slots, slot state, reconcile loop, telemetry window and shadow runner), and what
 * they share: the MQTT link (desired states and commands in, state and telemetry out), the session
 * pool and model cache, the local API, the update lock and the error log.
 */
export class Agent {
  private readonly pool: SessionPool;
  private readonly cache: ModelCache;
  private readonly log: Logger;
  private readonly errors: ErrorLog;
  private readonly persist: boolean;
  private readonly units: ModelUnits;
  private readonly reporter: Reporter;
  private readonly link: MqttLink;
  private readonly api: LocalApi;
  private readonly updateLock: UpdateLock;
  private apiAddress: string | null = null;
  private timers: NodeJS.Timeout[] = [];
  private started = false;
  private rateWarned = false;

  constructor(
    readonly config: AgentConfig,
    deps: AgentDeps = {},
  ) {
    this.pool = deps.pool ?? new SessionPool(config);
    this.cache =
      deps.cache ??
      new ModelCache({
        dir: join(config.dataDir, 'models'),
        authorization: basicAuth(config.mqttUsername, config.mqttPassword),
        credentialOrigins: credentialOrigins(config.hubUrl, config.credentialOrigins),
        trustedKeys: config.trustedKeys,
        requireSigned: config.requireSigned,
        retries: config.downloadRetries,
        minBackoffMs: 500,
        maxBackoffMs: 30_000,
        stallTimeoutMs: 30_000,
        tls: config.tls,
      });
    this.log = deps.logger ?? silentLogger;
    this.errors = new ErrorLog(this.log);
    this.persist = deps.persist ?? true;
    // A take, refresh or release of the lock may end or start a deferral: every model plans again.
    this.updateLock = new UpdateLock(() => this.units.all().forEach((unit) => unit.schedule()));
    this.units = new ModelUnits((name) => this.makeUnit(name), this.errors);
    this.reporter = new Reporter({
      deviceId: config.deviceId,
      errors: this.errors,
      models: () => this.modelsReport(),
      capabilities: localCapabilities(config),
    });
    this.link = new MqttLink({
      config,
      log: this.log,
      errors: this.errors,
      statePayload: (online) => this.reporter.statePayload(online),
      rememberedGroup: () => this.units.default.store.group,
      rememberGroup: (group) => this.units.default.store.setGroup(group),
      acceptName: (name) => this.units.admit(name),
      onDesired: (name, desired, received) => this.onDesired(name, desired, received),
      onGroupChange: () => this.units.all().forEach((unit) => unit.resetProgress()),
      onCommand: (command) => this.onCommand(command),
    });
    this.api = new LocalApi({
      infer: (feeds, name) => this.infer(feeds, name),
      reportQuality: (map, name) => this.units.get(name ?? DEFAULT_MODEL_NAME)?.recordQuality(map),
      hasModel: (name) => this.units.has(name),
      status: () => this.status(),
      updateLock: this.updateLock,
    });
  }

  /** Restores every model's slots, opens the local API and connects; resolves once the API listens. */
  async start(): Promise<void> {
    await this.units.restore(this.persist ? this.config.dataDir : null);
    this.apiAddress = await this.api.listen(this.config.api, this.config.apiHosts);
    this.link.connect(this.config.group ?? this.units.default.store.group);
    const interval = this.config.telemetryIntervalS * 1000;
    // One window per model per interval; a named model's carries serve_as.
    const telemetry = () => {
      for (const unit of this.units.all()) this.link.publishTelemetry(unit.telemetry());
    };
    this.timers.push(setInterval(telemetry, interval).unref());
    this.started = true;
    for (const unit of this.units.all()) unit.simulate(this.config.simulateFps);
    this.log.info('agent started', {
      api: this.apiAddress,
      active: this.units.default.slots.active,
      models: this.units.namedUnits().map((unit) => unit.name),
    });
  }

  async stop(): Promise<void> {
    this.link.silence();
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all(this.units.all().map((unit) => unit.stop()));
    await this.api.close();
    await this.link.close();
    for (const unit of this.units.all()) unit.close();
  }

  get apiUrl(): string | null {
    return this.apiAddress;
  }

  /** An inference on the active slot of model `name` (default: `default`). */
  async infer(
    feeds: Feeds,
    name: string = DEFAULT_MODEL_NAME,
  ): Promise<InferenceResult & { latency_ms: number }> {
    const unit = this.units.get(name);
    if (!unit) throw new UnknownModelError(`this device serves no model named ${name}`);
    return unit.infer(feeds);
  }

  status(): AgentStatus {
    const top = this.units.default.status();
    const models: Record<string, ModelStatus> = {};
    for (const unit of this.units.namedUnits()) models[unit.name] = unit.status();
    return {
      device_id: this.config.deviceId,
      group: this.link.group,
      connected: this.link.connected,
      active_slot: top.active_slot,
      slots: top.slots,
      deployment: top.deployment,
      downloads: this.cache.downloads,
      inferences: top.inferences,
      inference_errors: top.inference_errors,
      invalid_messages: this.link.invalidMessages,
      swaps: top.swaps,
      errors: this.errors.list(),
      api: this.apiAddress,
      update_lock: this.updateLock.status(),
      models,
    };
  }

  private makeUnit(name: string): ModelUnit {
    const named = name !== DEFAULT_MODEL_NAME;
    const unit = new ModelUnit({
      name,
      config: this.config,
      pool: this.pool,
      cache: this.cache,
      log: named ? withFields(this.log, { model: name }) : this.log,
      errors: named ? this.errors.prefixed(`${name}: `) : this.errors,
      statePath: unitStatePath(this.config.dataDir, name),
      modelsDir: join(this.config.dataDir, 'models'),
      persist: this.persist,
      lock: () => this.updateLock.view(),
      onReport: (passing) => this.link.publishState(passing),
    });
    if (named) this.checkTelemetryRate(name);
    // A named model that arrives while the agent runs simulates at once; at start, all do.
    if (this.started) unit.simulate(this.config.simulateFps);
    return unit;
  }

  /** Says once when the models' windows outrun the broker's default telemetry limit (5/s). */
  private checkTelemetryRate(adding: string): void {
    const models = this.units.all().length + 1;
    const rate = telemetryPerSecond(models, this.config.telemetryIntervalS);
    if (this.rateWarned || rate <= DEFAULT_TELEMETRY_RATE_PER_S) return;
    this.rateWarned = true;
    this.log.warn('telemetry windows may outrun the broker limit', {
      model: adding,
      models,
      per_second: rate,
      limit_per_second: DEFAULT_TELEMETRY_RATE_PER_S,
      hint: 'raise SENTINEL_TELEMETRY_INTERVAL_S (or the hub MQTT_TELEMETRY_RATE)',
    });
  }

  private onDesired(name: string, desired: DesiredState | null, received?: DesiredState): void {
    // A named model starts with its first desired state that names a model (a hub holding back an
    // incompatible device publishes one without); a cleared one keeps what it serves.
    const unit = desired?.model ? this.units.obtain(name) : this.units.get(name);
    if (!unit) return;
    unit.setDesired(desired, received);
  }

  private modelsReport(): ModelsReport {
    const named: ModelsReport['named'] = {};
    for (const unit of this.units.namedUnits()) named[unit.name] = unit.report();
    return { default: this.units.default.report(), named };
  }

  private onCommand(command: Command): void {
    const route = routeCommand(command, (name) => this.units.has(name));
    switch (route.kind) {
      case 'rollback':
        void this.units.get(route.name)!.rollback(command.reason ?? 'rollback command');
        break;
      case 'unknown_model':
        this.errors.record(
          `rollback command ${command.id} ignored: this device serves no model named ${route.name}`,
        );
        this.link.publishState();
        break;
      case 'reload':
        for (const unit of this.units.all()) unit.store.clearTransient();
        void this.link
          .followGroup()
          .then(() => this.units.all().forEach((unit) => unit.schedule()));
        break;
      case 'ping':
        this.link.publishState();
        break;
    }
  }
}

export { AgentError, basicAuth };
