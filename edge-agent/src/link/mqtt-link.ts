import mqtt, { type MqttClient } from 'mqtt';
import {
  DEFAULT_MODEL_NAME,
  deviceCommandsTopic,
  deviceDesiredTopic,
  deviceNamedDesiredFilter,
  deviceStateTopic,
  deviceTelemetryTopic,
  encodeMessage,
  groupDesiredTopic,
  groupNamedDesiredFilter,
  parseMessage,
  parseTopic,
  type Command,
  type DesiredState,
  type Telemetry,
} from '@sentinel/broker/protocol';
import type { AgentConfig } from '../config.js';
import { lookupGroup } from '../hub-client.js';
import { mqttServers } from '../mqtt-servers.js';
import { closeMqtt } from '../lifecycle/close-mqtt.js';
import type { Logger } from '../log.js';
import type { ErrorLog } from '../report/error-log.js';
import { DesiredSources, type DesiredChange } from '../state/desired-sources.js';

const GROUP_LOOKUP_RETRY_MS = 5_000;

export interface MqttLinkOptions {
  config: AgentConfig;
  log: Logger;
  errors: ErrorLog;
  /** The retained device state to publish (online), or the Last Will and goodbye (offline). */
  statePayload(online: boolean): Buffer;
  /** The group last known (state file), for when the hub cannot be asked. */
  rememberedGroup(): string | null;
  rememberGroup(group: string | null): Promise<void>;
  /**
   * Whether the device takes a desired state for the named model `name` (not `default`, always
   * taken): at most MAX_MODEL_NAMES names. A name refused is ignored, its messages dropped.
   */
  acceptName(name: string): boolean;
  /**
   * The effective desired state of model `name` changed (per name, a device override wins over
   * the group's); `received` is the desired state that just arrived, when one did (not for a
   * cleared topic).
   */
  onDesired(name: string, desired: DesiredState | null, received?: DesiredState): void;
  /** The device moved to another group: the old group's deployment no longer applies. */
  onGroupChange(): void;
  onCommand(command: Command): void;
}

/**
 * The device's MQTT session: connects (with its offline state as Last Will), subscribes to its
 * desired-state and command topics and its group's desired state (the default model's topics and
 * the named models' `models/+/desired` filters), checks and parses what arrives (valid schema,
 * increasing seq per topic, commands once), and publishes the state and telemetry.
 */
export class MqttLink {
  private client?: MqttClient;
  private groupNow: string | null = null;
  private subscribedGroup: string | null = null;
  /** The broker refused the named-model filters once already (logged then, not again). */
  private namedRefusalLogged = false;
  private readonly sources = new DesiredSources();
  private readonly seenCommands: string[] = [];
  private timers: NodeJS.Timeout[] = [];
  private quiet = false;
  private invalid = 0;
  /** A report of a passing phase, held back (docs/protocol.md 5, coalescing). */
  private held?: NodeJS.Timeout;

  constructor(private readonly o: MqttLinkOptions) {}

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get group(): string | null {
    return this.groupNow;
  }

  get invalidMessages(): number {
    return this.invalid;
  }

  connect(group: string | null): void {
    this.groupNow = group;
    const config = this.o.config;
    const id = config.deviceId;
    const client = mqtt.connect(config.mqttUrl, {
      // Several brokers (hubs of a cluster): one chosen by the device id first, each reconnect to
      // the next one.
      servers: mqttServers(config.mqttUrls, id),
      clientId: id,
      username: config.mqttUsername,
      password: config.mqttPassword,
      ...config.tls,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      will: {
        topic: deviceStateTopic(id),
        payload: this.o.statePayload(false),
        qos: 1,
        retain: true,
      },
    });
    this.client = client;
    client.on('connect', () => {
      // The connection may drop before the subscriptions are confirmed; it reconnects by itself.
      this.onConnect().catch((error: Error) =>
        this.o.errors.record(`on connect: ${error.message}`),
      );
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (error) => this.o.log.warn('mqtt error', { error: error.message }));
    client.on('close', () => this.o.log.debug('mqtt closed'));
  }

  /** Stops publishing (the agent is stopping; only the goodbye goes out). */
  silence(): void {
    this.quiet = true;
    clearTimeout(this.held);
    for (const timer of this.timers) clearTimeout(timer);
  }

  /** Publishes the offline state and disconnects. */
  async close(): Promise<void> {
    this.silence();
    const goodbye = {
      topic: deviceStateTopic(this.o.config.deviceId),
      payload: this.o.statePayload(false),
    };
    if (this.client) await closeMqtt(this.client, goodbye, 5_000);
  }

  /**
   * Reports the device state. A `passing` change (a phase that usually lasts a moment: downloading,
   * verifying) waits SENTINEL_STATE_COALESCE_MS and goes out only if nothing else did meanwhile, so
   * a model that downloads and verifies quickly costs the hub no report of either.
   */
  publishState(passing = false): void {
    const wait = this.o.config.stateCoalesceMs;
    if (passing && wait > 0) {
      this.held ??= setTimeout(() => this.sendState(), wait);
      return;
    }
    this.sendState();
  }

  private sendState(): void {
    clearTimeout(this.held);
    this.held = undefined;
    const client = this.client;
    if (!client?.connected || this.quiet) return;
    client.publish(
      deviceStateTopic(this.o.config.deviceId),
      this.o.statePayload(true),
      { qos: 1, retain: true },
      (error) => {
        if (error) this.o.log.warn('state publish failed', { error: error.message });
      },
    );
  }

  publishTelemetry(message: Telemetry): void {
    const client = this.client;
    if (!client?.connected) return;
    client.publish(
      deviceTelemetryTopic(this.o.config.deviceId),
      encodeMessage('telemetry', message),
      { qos: 0 },
    );
  }

  private async onConnect(): Promise<void> {
    this.o.log.info('mqtt connected');
    const id = this.o.config.deviceId;
    // A new session has no subscriptions, and the broker re-sends retained desired states on
    // subscribe: accept them again.
    this.sources.forgetSeqs();
    this.subscribedGroup = null;
    await this.subscribe([
      deviceDesiredTopic(id),
      deviceNamedDesiredFilter(id),
      deviceCommandsTopic(id),
    ]);
    await this.followGroup();
    this.sendState();
  }

  /** Learns the device's group (config, else the hub, else the last one known) and subscribes to it. */
  async followGroup(): Promise<void> {
    let group = this.o.config.group ?? null;
    if (!group) {
      try {
        group = await lookupGroup(this.o.config);
      } catch (error) {
        group = this.o.rememberedGroup();
        this.o.errors.record(`group lookup failed: ${(error as Error).message}`);
        const retry = setTimeout(() => void this.followGroup(), GROUP_LOOKUP_RETRY_MS).unref();
        this.timers.push(retry);
      }
    }
    if (group === this.groupNow && this.client?.connected && this.subscribedGroup === group) return;
    const client = this.client;
    if (!client?.connected) return;
    const old = this.subscribedGroup;
    if (old && old !== group) {
      await client
        .unsubscribeAsync([groupDesiredTopic(old), groupNamedDesiredFilter(old)])
        .catch(() => undefined);
      for (const change of this.sources.leaveGroup()) this.emit(change);
    }
    if (group !== this.groupNow) {
      this.o.log.info('group', { from: this.groupNow, to: group });
      this.o.onGroupChange();
    }
    this.groupNow = group;
    await this.o.rememberGroup(group);
    if (group) await this.subscribe([groupDesiredTopic(group), groupNamedDesiredFilter(group)]);
    this.subscribedGroup = group;
  }

  private emit(change: DesiredChange | null): void {
    if (change) this.o.onDesired(change.name, change.desired, change.received);
  }

  private async subscribe(topics: string[]): Promise<void> {
    const granted = await this.client!.subscribeAsync(topics, { qos: 1 });
    for (const grant of granted) {
      if (grant.qos !== 128) continue;
      if (grant.topic.includes('/models/+/')) {
        // A hub (or a Mosquitto ACL file) from before named models: the default model works; say so
        // once rather than filling the error list on every connect.
        if (!this.namedRefusalLogged)
          this.o.log.warn('broker refused the named-model subscriptions: serving default only', {
            topic: grant.topic,
          });
        this.namedRefusalLogged = true;
        continue;
      }
      this.o.errors.record(`broker refused subscription to ${grant.topic}`);
    }
  }

  private onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed) return;
    if (parsed.kind === 'device_commands') return this.onCommand(payload);
    if (parsed.kind !== 'group_desired' && parsed.kind !== 'device_desired') return;
    if (parsed.kind === 'group_desired' && parsed.group !== this.groupNow) return;
    if (parsed.kind === 'device_desired' && parsed.device !== this.o.config.deviceId) return;
    const name = parsed.name;
    if (name !== DEFAULT_MODEL_NAME && !this.o.acceptName(name)) return;
    const source = parsed.kind === 'group_desired' ? 'group' : 'device';
    if (payload.length === 0) {
      // A cleared retained message: no desired state (any more) on this topic.
      return this.emit(this.sources.clear(topic, source, name));
    }
    const result = parseMessage('desired-state', payload);
    if (!result.ok) {
      this.invalid += 1;
      this.o.errors.record(`invalid desired state on ${topic}: ${result.error}`);
      this.publishState();
      return;
    }
    const change = this.sources.receive(topic, source, name, result.value);
    if (!change) {
      this.o.log.debug('stale desired state ignored', { topic, seq: result.value.seq });
      return;
    }
    this.emit(change);
  }

  private onCommand(payload: Buffer): void {
    const result = parseMessage('command', payload);
    if (!result.ok) {
      this.invalid += 1;
      this.o.errors.record(`invalid command: ${result.error}`);
      return;
    }
    const command = result.value;
    if (this.seenCommands.includes(command.id)) return;
    this.seenCommands.push(command.id);
    if (this.seenCommands.length > 100) this.seenCommands.shift();
    this.o.log.info('command', { command: command.command, id: command.id });
    this.o.onCommand(command);
  }
}
