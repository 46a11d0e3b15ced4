import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Command, DeploymentProgress, Slot } from '@sentinel/broker/protocol';
import type { AgentConfig } from './config.js';
import { basicAuth, credentialOrigins } from './download/credentials.js';
import { ModelCache } from './download/downloader.js';
import { localCapabilities } from './capabilities/capabilities.js';
import { AgentError } from './errors.js';
import { SessionPool } from './inference/session-pool.js';
import { Slots, type InferenceResult } from './inference/slots.js';
import type { Feeds } from './inference/tensors.js';
import { LocalApi } from './api/local-api.js';
import { UpdateLock, type UpdateLockStatus } from './api/update-lock.js';
import { MqttLink } from './link/mqtt-link.js';
import { silentLogger, type Logger } from './log.js';
import { Reconciler } from './reconcile/reconciler.js';
import { SlotStore } from './reconcile/slot-store.js';
import { ErrorLog } from './report/error-log.js';
import { Reporter } from './report/reporter.js';
import { shadowCandidate } from './shadow/candidate.js';
import { ShadowRunner } from './shadow/shadow-runner.js';
import { Simulator } from './simulation/simulator.js';

export { AGENT_VERSION } from './report/reporter.js';

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
  active_slot: Slot | null;
  slots: Record<Slot, { model_id: string; name: string; version: string; sha256: string } | null>;
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
}

/**
 * One device, composed of its parts: the MQTT link (desired states and commands in, state and
 * telemetry out), the reconciler (two slots following the desired state, one step at a time),
 * the slot store (state.json), the reporter, the local API and the frame simulator.
 */
export class Agent {
  private readonly pool: SessionPool;
  private readonly cache: ModelCache;
  private readonly log: Logger;
  private readonly slots: Slots;
  private readonly errors: ErrorLog;
  private readonly store: SlotStore;
  private readonly reconciler: Reconciler;
  private readonly reporter: Reporter;
  private readonly link: MqttLink;
  private readonly api: LocalApi;
  private readonly shadow = new ShadowRunner();
  private shadowProblem: string | null = null;
  private readonly updateLock: UpdateLock;
  private simulator?: Simulator;
  private apiAddress: string | null = null;
  private timers: NodeJS.Timeout[] = [];
  private counters = { inferences: 0, inferenceErrors: 0 };

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
    this.slots = new Slots(this.pool);
    // A take, refresh or release of the lock may end or start a deferral: plan again.
    this.updateLock = new UpdateLock(() => this.reconciler.schedule());
    this.store = new SlotStore({
      path: join(config.dataDir, 'state.json'),
      modelsDir: join(config.dataDir, 'models'),
      persist: deps.persist ?? true,
      slots: this.slots,
      pool: this.pool,
      errors: this.errors,
    });
    this.reconciler = new Reconciler({
      deviceId: config.deviceId,
      health: config.health,
      errorBurst: config.errorBurst,
      slots: this.slots,
      store: this.store,
      pool: this.pool,
      cache: this.cache,
      log: this.log,
      errors: this.errors,
      lock: () => this.updateLock.view(),
      onReport: () => {
        this.refreshShadow();
        this.link.publishState();
      },
    });
    this.reporter = new Reporter({
      deviceId: config.deviceId,
      slots: this.slots,
      errors: this.errors,
      progress: () => this.reconciler.progress,
      deploymentId: () => this.reconciler.desired?.deployment_id ?? null,
      capabilities: localCapabilities(config),
    });
    this.link = new MqttLink({
      config,
      log: this.log,
      errors: this.errors,
      statePayload: (online) => this.reporter.statePayload(online),
      rememberedGroup: () => this.store.group,
      rememberGroup: (group) => this.store.setGroup(group),
      onDesired: (desired, received) => {
        this.reconciler.setDesired(desired, received);
        this.refreshShadow();
      },
      onGroupChange: () => this.reconciler.resetProgress(),
      onCommand: (command) => this.onCommand(command),
    });
    this.api = new LocalApi({
      infer: (feeds) => this.infer(feeds),
      reportQuality: (map) => this.reporter.window.recordQuality(map),
      status: () => this.status(),
      updateLock: this.updateLock,
    });
  }

  /** Restores the slots, opens the local API and connects; resolves once the API listens. */
  async start(): Promise<void> {
    await this.store.restore();
    this.apiAddress = await this.api.listen(this.config.api, this.config.apiHosts);
    this.link.connect(this.config.group ?? this.store.group);
    const interval = this.config.telemetryIntervalS * 1000;
    const telemetry = () => {
      const message = this.reporter.telemetry();
      const shadow = this.shadow.take();
      if (shadow) message.shadow = shadow;
      this.link.publishTelemetry(message);
    };
    this.timers.push(setInterval(telemetry, interval).unref());
    if (this.config.simulateFps > 0) {
      this.simulator = new Simulator({
        fps: this.config.simulateFps,
        maxInputBytes: this.config.health.maxInputBytes,
        slots: this.slots,
        window: this.reporter.window,
        infer: (feeds) => this.infer(feeds),
      });
      this.simulator.start();
    }
    this.log.info('agent started', { api: this.apiAddress, active: this.slots.active });
  }

  async stop(): Promise<void> {
    this.link.silence();
    for (const timer of this.timers) clearInterval(timer);
    await this.simulator?.stop();
    await this.reconciler.stop();
    await this.api.close();
    await this.link.close();
    this.slots.close();
  }

  get apiUrl(): string | null {
    return this.apiAddress;
  }

  async infer(feeds: Feeds): Promise<InferenceResult & { latency_ms: number }> {
    const started = performance.now();
    try {
      const result = await this.slots.run(feeds);
      const latency = performance.now() - started;
      this.counters.inferences += 1;
      this.reporter.window.record(latency, true);
      // Shadow verification only samples and queues here: the candidate runs off this path.
      this.shadow.offer(feeds, result.outputs, latency);
      return { ...result, latency_ms: Math.round(latency * 1000) / 1000 };
    } catch (error) {
      this.counters.inferenceErrors += 1;
      this.reporter.window.record(0, false);
      this.reconciler.inferenceFailed();
      throw error;
    }
  }

  status(): AgentStatus {
    const slot = (s: Slot) => {
      const model = this.slots.view()[s];
      return model
        ? { model_id: model.id, name: model.name, version: model.version, sha256: model.sha256 }
        : null;
    };
    return {
      device_id: this.config.deviceId,
      group: this.link.group,
      connected: this.link.connected,
      active_slot: this.slots.active,
      slots: { blue: slot('blue'), green: slot('green') },
      deployment: this.reconciler.progress,
      downloads: this.cache.downloads,
      inferences: this.counters.inferences,
      inference_errors: this.counters.inferenceErrors,
      invalid_messages: this.link.invalidMessages,
      swaps: this.reconciler.swaps,
      errors: this.errors.list(),
      api: this.apiAddress,
      update_lock: this.updateLock.status(),
    };
  }

  /** Shadows the standby model while the desired state asks for it and the slots are ready. */
  private refreshShadow(): void {
    this.shadow.setCandidate(
      shadowCandidate(this.reconciler.desired, this.slots, (message) => {
        // Asked again on every report: say a problem once, not once per report.
        if (message === this.shadowProblem) return;
        this.shadowProblem = message;
        this.errors.record(message);
      }),
    );
  }

  private onCommand(command: Command): void {
    switch (command.command) {
      case 'rollback':
        void this.reconciler.rollback('manual', command.reason ?? 'rollback command');
        break;
      case 'reload':
        this.store.clearTransient();
        void this.link.followGroup().then(() => this.reconciler.schedule());
        break;
      case 'ping':
        this.link.publishState();
        break;
    }
  }
}

export { AgentError, basicAuth };
