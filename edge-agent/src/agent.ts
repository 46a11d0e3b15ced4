import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import {
  deviceCommandsTopic,
  deviceDesiredTopic,
  deviceStateTopic,
  deviceTelemetryTopic,
  encodeMessage,
  groupDesiredTopic,
  parseMessage,
  parseTopic,
  type Command,
  type DeploymentProgress,
  type DesiredState,
  type DeviceState,
  type FailureReason,
  type ModelRef,
  type Slot,
} from '@sentinel/broker/protocol';
import type { AgentConfig } from './config.js';
import { basicAuth, credentialOrigins } from './download/credentials.js';
import { ModelCache } from './download/downloader.js';
import { AgentError, reasonOf } from './errors.js';
import { healthCheck, firstMismatch } from './inference/health-check.js';
import { SessionPool } from './inference/session-pool.js';
import { Slots, type InferenceResult } from './inference/slots.js';
import type { Feeds } from './inference/tensors.js';
import { LocalApi } from './api/local-api.js';
import { lookupGroup } from './hub-client.js';
import { closeMqtt } from './lifecycle/close-mqtt.js';
import { silentLogger, type Logger } from './log.js';
import {
  effectiveDesired,
  nextStep,
  phaseOf,
  targetOf,
  TRANSIENT_REASONS,
  withServed,
  type Veto,
} from './state/plan.js';
import { EMPTY_STATE, readState, writeState, type PersistedState } from './state/state-file.js';
import { TelemetryWindow } from './telemetry/window.js';
import { FrameLoop } from './telemetry/frame-loop.js';
import { mqttServers } from './mqtt-servers.js';
import { simFeedsFor, type SimFeeds } from './telemetry/sim-feeds.js';

export const AGENT_VERSION = '0.1.0';
const MAX_ERRORS_REPORTED = 10;
const MAX_VETOES = 100;
const GROUP_LOOKUP_RETRY_MS = 5_000;

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
}

/**
 * One device: follows the desired state on MQTT, keeps two slots, serves the local API, reports
 * its state and telemetry. Every change of slots goes through `reconcile`, one step at a time.
 */
export class Agent {
  private readonly pool: SessionPool;
  private readonly cache: ModelCache;
  private readonly log: Logger;
  private readonly persist: boolean;
  private readonly slots: Slots;
  private readonly api: LocalApi;
  private readonly window = new TelemetryWindow();
  private readonly statePath: string;
  private state: PersistedState = structuredClone(EMPTY_STATE);
  private client?: MqttClient;
  private group: string | null = null;
  private groupDesired: DesiredState | null = null;
  private deviceDesired: DesiredState | null = null;
  private readonly lastSeq = new Map<string, number>();
  private readonly seenCommands: string[] = [];
  private progress: DeploymentProgress | null = null;
  private notifiedKey = '';
  private errors: string[] = [];
  private apiAddress: string | null = null;
  private reconciling?: Promise<void>;
  private dirty = false;
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  private frameLoop?: FrameLoop;
  private burst: { sha256: string; until: number; errors: number } | null = null;
  private counters = { inferences: 0, inferenceErrors: 0, invalidMessages: 0, swaps: 0 };

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
    this.persist = deps.persist ?? true;
    this.slots = new Slots(this.pool);
    this.api = new LocalApi({
      infer: (feeds) => this.infer(feeds),
      reportQuality: (map) => this.window.recordQuality(map),
      status: () => this.status(),
    });
    this.statePath = join(config.dataDir, 'state.json');
  }

  /** Restores the slots, opens the local API and connects; resolves once the API listens. */
  async start(): Promise<void> {
    if (this.persist) this.state = await readState(this.statePath);
    // Transient failures get another chance after a restart.
    this.state.vetoes = this.state.vetoes.filter((v) => !TRANSIENT_REASONS.has(v.reason));
    await this.restoreSlots();
    this.apiAddress = await this.api.listen(this.config.api, this.config.apiHosts);
    this.group = this.config.group ?? this.state.group;
    this.connect();
    const interval = this.config.telemetryIntervalS * 1000;
    this.timers.push(setInterval(() => this.publishTelemetry(), interval).unref());
    if (this.config.simulateFps > 0) {
      this.frameLoop = new FrameLoop(this.config.simulateFps, () => this.simulatedFrame());
      this.frameLoop.start();
    }
    this.log.info('agent started', { api: this.apiAddress, active: this.slots.active });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.frameLoop?.stop();
    await this.reconciling?.catch(() => undefined);
    await this.api.close();
    const goodbye = {
      topic: deviceStateTopic(this.config.deviceId),
      payload: this.statePayload(false),
    };
    if (this.client) await closeMqtt(this.client, goodbye, 5_000);
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
      this.window.record(latency, true);
      return { ...result, latency_ms: Math.round(latency * 1000) / 1000 };
    } catch (error) {
      this.counters.inferenceErrors += 1;
      this.window.record(0, false);
      this.countBurstError();
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
      group: this.group,
      connected: this.client?.connected ?? false,
      active_slot: this.slots.active,
      slots: { blue: slot('blue'), green: slot('green') },
      deployment: this.progress,
      downloads: this.cache.downloads,
      inferences: this.counters.inferences,
      inference_errors: this.counters.inferenceErrors,
      invalid_messages: this.counters.invalidMessages,
      swaps: this.counters.swaps,
      errors: [...this.errors],
      api: this.apiAddress,
    };
  }

  // --- MQTT ----------------------------------------------------------------------------------

  private connect(): void {
    const id = this.config.deviceId;
    const client = mqtt.connect(this.config.mqttUrl, {
      // Several brokers (hubs of a cluster): each reconnect goes to the next one.
      servers: mqttServers(this.config.mqttUrls),
      clientId: id,
      username: this.config.mqttUsername,
      password: this.config.mqttPassword,
      ...this.config.tls,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      will: {
        topic: deviceStateTopic(id),
        payload: this.statePayload(false),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    client.on('connect', () => {
      // The connection may drop before the subscriptions are confirmed; it reconnects by itself.
      this.onConnect().catch((error: Error) => this.recordError(`on connect: ${error.message}`));
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (error) => this.log.warn('mqtt error', { error: error.message }));
    client.on('close', () => this.log.debug('mqtt closed'));
  }

  private async onConnect(): Promise<void> {
    this.log.info('mqtt connected');
    const id = this.config.deviceId;
    // A new session has no subscriptions, and the broker re-sends retained desired states on
    // subscribe: accept them again.
    this.lastSeq.clear();
    this.subscribedGroup = null;
    await this.subscribe([deviceDesiredTopic(id), deviceCommandsTopic(id)]);
    await this.followGroup();
    this.publishState();
  }

  /** Learns the device's group (config, else the hub, else the last one known) and subscribes to it. */
  private async followGroup(): Promise<void> {
    let group = this.config.group ?? null;
    if (!group) {
      try {
        group = await lookupGroup(this.config);
      } catch (error) {
        group = this.state.group;
        this.recordError(`group lookup failed: ${(error as Error).message}`);
        const retry = setTimeout(() => void this.followGroup(), GROUP_LOOKUP_RETRY_MS).unref();
        this.timers.push(retry);
      }
    }
    if (group === this.group && this.client?.connected && this.subscribedGroup === group) return;
    const client = this.client;
    if (!client?.connected) return;
    if (this.subscribedGroup && this.subscribedGroup !== group) {
      await client.unsubscribeAsync(groupDesiredTopic(this.subscribedGroup)).catch(() => undefined);
      this.groupDesired = null;
      this.schedule();
    }
    if (group !== this.group) {
      this.log.info('group', { from: this.group, to: group });
      this.progress = null;
    }
    this.group = group;
    if (group !== this.state.group) {
      this.state.group = group;
      await this.saveOrRecord(); // a full disk must not keep the device off its group's topic
    }
    if (group) await this.subscribe([groupDesiredTopic(group)]);
    this.subscribedGroup = group;
  }

  private subscribedGroup: string | null = null;

  private async subscribe(topics: string[]): Promise<void> {
    const granted = await this.client!.subscribeAsync(topics, { qos: 1 });
    for (const grant of granted) {
      if (grant.qos === 128) this.recordError(`broker refused subscription to ${grant.topic}`);
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed) return;
    if (parsed.kind === 'device_commands') return this.onCommand(payload);
    if (parsed.kind !== 'group_desired' && parsed.kind !== 'device_desired') return;
    if (parsed.kind === 'group_desired' && parsed.group !== this.group) return;
    const source = parsed.kind === 'group_desired' ? 'group' : 'device';
    if (payload.length === 0) {
      // A cleared retained message: no desired state (any more) on this topic.
      if (source === 'group') this.groupDesired = null;
      else this.deviceDesired = null;
      this.lastSeq.delete(topic);
      this.schedule();
      return;
    }
    const result = parseMessage('desired-state', payload);
    if (!result.ok) {
      this.counters.invalidMessages += 1;
      this.recordError(`invalid desired state on ${topic}: ${result.error}`);
      this.publishState();
      return;
    }
    const desired = result.value;
    const last = this.lastSeq.get(topic);
    if (last !== undefined && desired.seq <= last) {
      this.log.debug('stale desired state ignored', { topic, seq: desired.seq, last });
      return;
    }
    this.lastSeq.set(topic, desired.seq);
    if (source === 'group') this.groupDesired = desired;
    else this.deviceDesired = desired;
    // The hub sent the deployment again: failures that may pass by now get another chance.
    this.state.vetoes = this.state.vetoes.filter(
      (v) => !(TRANSIENT_REASONS.has(v.reason) && v.deployment_id === desired.deployment_id),
    );
    this.schedule();
  }

  private onCommand(payload: Buffer): void {
    const result = parseMessage('command', payload);
    if (!result.ok) {
      this.counters.invalidMessages += 1;
      this.recordError(`invalid command: ${result.error}`);
      return;
    }
    const command: Command = result.value;
    if (this.seenCommands.includes(command.id)) return;
    this.seenCommands.push(command.id);
    if (this.seenCommands.length > 100) this.seenCommands.shift();
    this.log.info('command', { command: command.command, id: command.id });
    switch (command.command) {
      case 'rollback':
        void this.rollbackLocally('manual', command.reason ?? 'rollback command');
        break;
      case 'reload':
        this.state.vetoes = this.state.vetoes.filter((v) => !TRANSIENT_REASONS.has(v.reason));
        void this.followGroup().then(() => this.schedule());
        break;
      case 'ping':
        this.publishState();
        break;
    }
  }

  // --- reconciliation ------------------------------------------------------------------------

  private desired(): DesiredState | null {
    return effectiveDesired(this.groupDesired, this.deviceDesired);
  }

  /** Runs reconcile until no new desired state arrived meanwhile; one run at a time. */
  private schedule(): void {
    this.dirty = true;
    if (this.reconciling || this.stopped) return;
    this.reconciling = (async () => {
      while (this.dirty && !this.stopped) {
        this.dirty = false;
        try {
          await this.reconcile();
        } catch (error) {
          this.recordError(`reconcile: ${(error as Error).message}`);
        }
      }
    })().finally(() => {
      this.reconciling = undefined;
    });
  }

  /** Steps towards the newest desired state until there is nothing to do or it changes. */
  private async reconcile(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const desired = this.desired();
      if (!desired) {
        this.progress = null;
        this.publishState();
        return;
      }
      const key = `${desired.deployment_id}:${desired.seq}`;
      const target = targetOf(desired, this.config.deviceId);
      const step = nextStep(target, this.slots.view(), desired.deployment_id, this.state.vetoes);
      if (key !== this.notifiedKey) {
        this.notifiedKey = key;
        // 'notified' only ahead of a download: a device with nothing to do or a swap to make
        // reports where it ends up at once. Two messages from every device for every desired
        // state were 20,000 state messages through the hub for one rollback of a 10,000-device group.
        if (step.kind === 'stage') this.report(desired, { phase: 'notified' }, target.inCohort);
      }
      if (step.kind === 'idle') {
        this.reportPhase(desired, target.inCohort);
        return;
      }
      const model = step.kind === 'stage' ? step.model : this.slots.view()[step.slot]!;
      try {
        if (step.kind === 'activate') await this.swapTo(step.slot, desired);
        else await this.stage(step.slot, step.model, desired, target.inCohort);
      } catch (error) {
        const reason = reasonOf(error);
        const detail = (error as Error).message;
        this.log.warn('model refused', { sha256: model.sha256, reason, detail });
        this.recordError(`${model.name}@${model.version}: ${detail}`);
        this.veto({ deployment_id: desired.deployment_id, sha256: model.sha256, reason, detail });
        await this.saveOrRecord();
      }
    }
  }

  /** Download, verify, load and health-check a model into the standby slot. */
  private async stage(
    slot: Slot,
    model: ModelRef,
    desired: DesiredState,
    inCohort: boolean,
  ): Promise<void> {
    const fetched = await this.cache.fetch(model, {
      onDownloading: ({ bytes, total }) =>
        this.report(desired, { phase: 'downloading', bytes, total_bytes: total }, inCohort),
      onVerifying: () => this.report(desired, { phase: 'verifying' }, inCohort),
    });
    const session = await this.pool.acquire(model.sha256, fetched.path);
    try {
      await healthCheck(session, model, this.config.health);
      // On disk before in the slot: a state that cannot be saved (disk_full) changes nothing.
      if (this.slots.active !== slot) await this.save({ ...this.slots.view(), [slot]: model });
    } catch (error) {
      this.pool.release(model.sha256);
      throw error;
    }
    if (this.slots.active === slot) {
      // A rollback swapped while this model loaded: that slot serves now. Re-plan instead.
      this.pool.release(model.sha256);
      return this.saveOrRecord();
    }
    this.slots.install(slot, model, session);
    this.log.info('model staged', {
      slot,
      name: model.name,
      version: model.version,
      downloaded: fetched.downloaded,
    });
  }

  private async swapTo(slot: Slot, desired: DesiredState | null): Promise<void> {
    const before = this.slots.activeModel();
    const now = this.slots.view()[slot]!;
    if (desired) {
      // On disk first: a swap that cannot be recorded (disk_full) does not happen.
      const served = withServed(this.state.served, `${desired.deployment_id}:${now.sha256}`);
      await this.save({ ...this.slots.view(), active: slot }, served);
    }
    this.slots.activate(slot);
    this.counters.swaps += 1;
    if (!desired) await this.saveOrRecord(); // a rollback swaps even on a full disk
    this.log.info('swapped', { slot, from: before?.version ?? null, to: now.version });
    const burst = this.config.errorBurst;
    this.burst =
      burst.errors > 0 && before !== null
        ? { sha256: now.sha256, until: Date.now() + burst.windowS * 1000, errors: 0 }
        : null;
  }

  private countBurstError(): void {
    const burst = this.burst;
    if (!burst || Date.now() > burst.until) return;
    if (this.slots.activeModel()?.sha256 !== burst.sha256) return;
    burst.errors += 1;
    if (burst.errors >= this.config.errorBurst.errors) {
      this.burst = null;
      void this.rollbackLocally(
        'error_burst',
        `${burst.errors} inference errors within ${this.config.errorBurst.windowS} s of the swap`,
      );
    }
  }

  /** Swaps back to the standby slot at once and refuses the model it left for this deployment. */
  private async rollbackLocally(reason: FailureReason, detail: string): Promise<void> {
    const active = this.slots.active;
    const standby = this.slots.standby;
    const leaving = this.slots.activeModel();
    if (!active || !leaving || !this.slots.view()[standby]) {
      this.recordError(`rollback impossible: no model in the standby slot (${detail})`);
      this.publishState();
      return;
    }
    const desired = this.desired();
    this.veto({
      deployment_id: desired?.deployment_id ?? null,
      sha256: leaving.sha256,
      reason,
      detail,
    });
    await this.swapTo(standby, null);
    this.burst = null;
    this.log.warn('rolled back locally', { reason, detail, from: leaving.version });
    if (desired) this.report(desired, { phase: 'rolled_back', reason, detail }, true);
    this.schedule();
  }

  private veto(veto: Veto): void {
    this.state.vetoes = [...this.state.vetoes.slice(-(MAX_VETOES - 1)), veto];
  }

  private reportPhase(desired: DesiredState, inCohort: boolean): void {
    const model = desired.model;
    const servedBefore =
      model !== null && this.state.served.includes(`${desired.deployment_id}:${model.sha256}`);
    const phase = phaseOf(desired, this.slots.view(), this.state.vetoes, servedBefore);
    this.report(desired, phase, inCohort);
  }

  private report(
    desired: DesiredState,
    fields: Omit<DeploymentProgress, 'deployment_id' | 'seq'>,
    inCohort: boolean,
  ): void {
    const next: DeploymentProgress = {
      deployment_id: desired.deployment_id,
      seq: desired.seq,
      ...fields,
      in_cohort: inCohort,
    };
    if (next.detail && next.detail.length > 2048) next.detail = next.detail.slice(0, 2048);
    const same = JSON.stringify(next) === JSON.stringify(this.progress);
    this.progress = next;
    if (!same) this.publishState();
  }

  // --- slots on disk -------------------------------------------------------------------------

  private async restoreSlots(): Promise<void> {
    for (const slot of ['blue', 'green'] as const) {
      const model = this.state[slot];
      if (!model) continue;
      try {
        // Straight from the cache folder: a restart must not wait for the network.
        const path = join(this.config.dataDir, 'models', `${model.sha256}.onnx`);
        const session = await this.pool.acquire(model.sha256, path);
        this.slots.install(slot, model, session);
      } catch (error) {
        this.recordError(
          `cannot restore slot ${slot} (${model.name}@${model.version}): ${(error as Error).message}`,
        );
        this.state[slot] = null;
      }
    }
    const active = this.state.active;
    if (active && this.slots.view()[active]) this.slots.activate(active);
    else if (active) {
      const other = active === 'blue' ? 'green' : 'blue';
      if (this.slots.view()[other]) this.slots.activate(other);
    }
  }

  /** Saves the slots (`view`, the current ones by default); throws AgentError('disk_full'). */
  private async save(view = this.slots.view(), served = this.state.served): Promise<void> {
    const next = { ...this.state, active: view.active, blue: view.blue, green: view.green, served };
    if (this.persist) await writeState(this.statePath, next);
    this.state = next;
  }

  /** Saves the slots, reporting a failure instead of throwing it (the state in memory holds). */
  private async saveOrRecord(): Promise<void> {
    await this.save().catch((error: Error) => this.recordError(`cannot save: ${error.message}`));
  }

  // --- reports -------------------------------------------------------------------------------

  private statePayload(online: boolean): Buffer {
    const id = this.config.deviceId;
    if (!online) {
      return encodeMessage('device-state', {
        device_id: id,
        online: false,
        ts: new Date().toISOString(),
      });
    }
    const view = this.slots.view();
    const report = (model: ModelRef | null) =>
      model
        ? { model_id: model.id, version: model.version, sha256: model.sha256, loaded: true }
        : null;
    const state: DeviceState = {
      device_id: id,
      online: true,
      agent_version: AGENT_VERSION,
      ts: new Date().toISOString(),
      active_slot: view.active,
      slots: { blue: report(view.blue), green: report(view.green) },
      deployment: this.progress,
      errors: this.errors.map((e) => (e.length > 2048 ? e.slice(0, 2048) : e)),
    };
    return encodeMessage('device-state', state);
  }

  private publishState(): void {
    const client = this.client;
    if (!client?.connected || this.stopped) return;
    client.publish(
      deviceStateTopic(this.config.deviceId),
      this.statePayload(true),
      { qos: 1, retain: true },
      (error) => {
        if (error) this.log.warn('state publish failed', { error: error.message });
      },
    );
  }

  private publishTelemetry(): void {
    const active = this.slots.active;
    const message = this.window.take({
      deviceId: this.config.deviceId,
      model: this.slots.activeModel(),
      slot: active,
      deploymentId: this.desired()?.deployment_id ?? null,
      memoryMb: process.memoryUsage().rss / (1024 * 1024),
    });
    const client = this.client;
    if (!client?.connected) return;
    client.publish(
      deviceTelemetryTopic(this.config.deviceId),
      encodeMessage('telemetry', message),
      { qos: 0 },
    );
  }

  private recordError(message: string): void {
    this.log.warn(message);
    this.errors = [
      ...this.errors.slice(-(MAX_ERRORS_REPORTED - 1)),
      `${new Date().toISOString()} ${message}`,
    ];
  }

  // --- simulation ----------------------------------------------------------------------------

  private readonly simFeeds = new Map<string, SimFeeds>();

  /** One synthetic frame through the active model; a golden input when the model has one. */
  private async simulatedFrame(): Promise<void> {
    const model = this.slots.activeModel();
    const slot = this.slots.active;
    if (!model || !slot) return;
    let prepared = this.simFeeds.get(model.sha256);
    if (!prepared) {
      const inputs = this.slots.session(slot)!.inputMetadata;
      prepared = simFeedsFor(model, inputs, this.config.health.maxInputBytes);
      this.simFeeds.set(model.sha256, prepared);
    }
    const result = await this.infer(prepared.feeds).catch(() => null);
    const declaredMap = model.metadata?.map;
    if (
      result &&
      prepared.golden &&
      typeof declaredMap === 'number' &&
      result.model.sha256 === model.sha256
    ) {
      const output = result.outputs[prepared.golden.name];
      const agrees =
        output &&
        firstMismatch(prepared.golden.output, output.data as Float32Array, prepared.golden.atol) ===
          null;
      // The model's validated mAP holds while it still answers its golden input as expected.
      this.window.recordQuality(agrees ? declaredMap : 0);
    }
  }
}

export { AgentError, basicAuth };
