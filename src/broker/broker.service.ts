import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  ALL_DEVICE_STATE,
  BoundedLog,
  DEFAULT_BOUNDED_LOG,
  deviceDesiredTopic,
  deviceStateTopic,
  groupDesiredTopic,
  OBSERVER_USERNAME,
  type DeniedEvent,
  type PeerCertificate,
  type Principal,
} from '@sentinel/broker';
import { certificateLogin } from '../auth/domain/certificate-login.js';
import { ClusterBus } from '../cluster/cluster-bus.js';
import { TokenEvents } from '../auth/token-events.js';
import { TokensService } from '../auth/tokens.service.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { clientAuthMode, tlsFilesOf } from '../config/tls-config.js';
import { DeviceCredentials } from '../fleet/device-credentials.js';
import { DeviceStateWriter } from '../fleet/device-state-writer.js';
import { FleetEvents } from '../fleet/fleet-events.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { EmbeddedMqtt } from './embedded-mqtt.js';
import { ExternalMqtt } from './external-mqtt.js';
import type { HubMqtt } from './hub-mqtt.js';
import { readStateMessage, ReportBatcher, type StateReport } from './state-ingest.js';

const STATE_FLUSH_MS = 250;
const STATE_MAX_BATCH = 1000;

/**
 * Owns the hub's MQTT side: starts the embedded broker (or connects to an external one), checks
 * device credentials at CONNECT, records what devices report, and ends sessions the fleet revokes.
 */
@Injectable()
export class BrokerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Broker');
  private transport: HubMqtt | null = null;
  private readonly states: ReportBatcher<StateReport>;
  /** Malformed state messages can come at any rate: each is counted, few are logged. */
  private readonly droppedStateLog = new BoundedLog(
    (line) => this.logger.warn(line),
    DEFAULT_BOUNDED_LOG,
  );

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly credentials: DeviceCredentials,
    private readonly stateWriter: DeviceStateWriter,
    private readonly events: FleetEvents,
    private readonly tokens: TokensService,
    private readonly tokenEvents: TokenEvents,
    private readonly metrics: MetricsService,
    private readonly cluster: ClusterBus,
  ) {
    this.states = new ReportBatcher(
      async (batch) => {
        await this.stateWriter.record(batch);
        this.events.emit('device.reports', { reports: batch });
      },
      STATE_FLUSH_MS,
      STATE_MAX_BATCH,
      (error) => this.logger.error(`could not record device states: ${error.message}`),
    );
  }

  get mqtt(): HubMqtt {
    if (!this.transport) throw new Error('the MQTT side of the hub is not started');
    return this.transport;
  }

  /** The embedded broker's bound ports (tests and the start-up line use them); null: none. */
  get ports(): {
    mqtt: number | null;
    ws: number | null;
    mqtts: number | null;
    wss: number | null;
  } | null {
    if (!(this.transport instanceof EmbeddedMqtt)) return null;
    const { port, wsPort, tlsPort, wssPort } = this.transport.broker;
    return { mqtt: port, ws: wsPort, mqtts: tlsPort, wss: wssPort };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.transport = this.config.MQTT_URL
      ? await ExternalMqtt.connect(
          this.config.MQTT_URL,
          this.config.MQTT_USERNAME,
          this.config.MQTT_PASSWORD,
        )
      : await this.startEmbedded();
    await this.transport.consume(ALL_DEVICE_STATE, (topic, payload) =>
      this.onState(topic, payload),
    );
    // Revoked credentials (rotated, deleted, moved, group deleted), from this hub or another one
    // of the cluster: the sessions on this hub's broker end at once.
    this.cluster.on('devices.revoked', ({ deviceIds, reason }) =>
      this.disconnect(deviceIds, reason),
    );
    // The retained messages are shared by the cluster: the hub that made the change clears them.
    // Named models' desired states (docs/protocol.md 6.6) too: the event names their topics.
    this.events.on('device.deleted', ({ deviceId, retained }) => {
      void this.clearRetained([
        deviceDesiredTopic(deviceId),
        deviceStateTopic(deviceId),
        ...(retained ?? []),
      ]);
    });
    this.events.on('group.deleted', ({ group, retained }) => {
      void this.clearRetained([groupDesiredTopic(group), ...(retained ?? [])]);
    });
    this.tokenEvents.onRevoked(({ tokenId }) => {
      const count = this.transport?.disconnectObservers(tokenId) ?? 0;
      if (count > 0) this.logger.log(`disconnected ${count} observer session(s): token revoked`);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    // Write what devices reported before the database goes away with the rest of the hub.
    await this.states.flush();
    await this.transport?.close();
    this.transport = null;
  }

  private async startEmbedded(): Promise<EmbeddedMqtt> {
    const rate = this.config.MQTT_TELEMETRY_RATE;
    const plain = this.config.MQTT_PLAINTEXT;
    const files = tlsFilesOf(this.config);
    const embedded = await EmbeddedMqtt.start({
      host: this.config.HOST,
      port: plain ? this.config.MQTT_PORT : null,
      wsPort: plain ? this.config.MQTT_WS_PORT : null,
      tls: files
        ? { port: this.config.MQTT_TLS_PORT, wsPort: this.config.MQTT_WSS_PORT, files }
        : undefined,
      redisUrl: this.config.REDIS_URL,
      observerUsername: OBSERVER_USERNAME,
      telemetryLimit:
        rate > 0 ? { ratePerSecond: rate, burst: this.config.MQTT_TELEMETRY_BURST } : null,
      authenticate: (client, username, password) => this.login(client, username, password),
      // The broker logs refusals at a bounded rate; the hub counts every one.
      onConnectRefused: (event) => this.metrics.mqttAuthFailures.inc({ reason: event.reason }),
      onDenied: (event) => this.countDenied(event),
      logger: {
        warn: (message) => this.logger.warn(message),
        info: (message) => this.logger.log(message),
      },
    });
    this.metrics.mqttClientCount = () => embedded.broker.clients().length;
    return embedded;
  }

  private countDenied(event: DeniedEvent): void {
    this.metrics.mqttDenied.inc({ action: event.action, reason: event.reason });
    if (event.reason === 'rate_limited')
      this.metrics.telemetryDropped.inc({ reason: 'rate_limited' });
  }

  /** A client certificate (mTLS, see certificateLogin) first; without one, authenticate(). */
  private async login(
    client: { id: string; certificate: PeerCertificate | null },
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<Principal | null> {
    const attempt = { clientId: client.id, username, notADevice: username === OBSERVER_USERNAME };
    const login = certificateLogin(clientAuthMode(this.config), client.certificate, attempt);
    if (login.kind === 'refuse') return this.refused(login.reason);
    if (login.kind === 'password') return this.authenticate(username, password);
    const principal = await this.credentials.identify(login.deviceId);
    if (!principal) return this.refused(`certificate of unknown device ${login.deviceId}`);
    if (!principal.group) return this.refused(`device ${login.deviceId} belongs to no group`);
    return principal;
  }

  /**
   * A device logs in with its id as user name, its secret as password and its id as client id (the
   * broker refuses any other client id, so no device can take over another's session); observers
   * log in as "observer" with an API token, under client ids of their own (`observer:...`).
   */
  private async authenticate(
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<Principal | null> {
    if (!username || !password) return this.refused('missing credentials');
    if (username === OBSERVER_USERNAME) {
      const principal = await this.tokens.authenticate(password.toString('utf8'));
      if (principal?.kind !== 'token') return this.refused('bad observer token');
      return { kind: 'observer', credentialId: principal.tokenId };
    }
    const principal = await this.credentials.verify(username, password.toString('utf8'));
    if (!principal) return this.refused(`bad credentials for ${JSON.stringify(username)}`);
    if (!principal.group) return this.refused(`device ${username} belongs to no group`);
    return principal;
  }

  /** The broker counts and logs (boundedly) every refused CONNECT; the detail is for debugging. */
  private refused(reason: string): null {
    this.logger.debug(`MQTT login refused: ${reason}`);
    return null;
  }

  private onState(topic: string, payload: Buffer): void {
    if (payload.length === 0) return; // a cleared retained state
    const outcome = readStateMessage(topic, payload);
    if (!outcome.ok) {
      this.metrics.mqttDropped.inc({ kind: 'device_state', reason: outcome.reason });
      this.droppedStateLog.report(
        `dropped a device state message (${outcome.reason}): ${outcome.detail.slice(0, 200)}`,
      );
      return;
    }
    this.metrics.deviceReports.inc();
    this.states.add(outcome.report);
  }

  /** DeviceCredentials forgot them first (its listener was registered before this one). */
  private disconnect(deviceIds: string[], why: string): void {
    const count = this.transport?.disconnectDevices(deviceIds) ?? 0;
    if (count > 0) this.logger.log(`disconnected ${count} device session(s): ${why}`);
  }

  /** An empty retained payload removes the retained message ([MQTT-3.3.1-10]). */
  private async clearRetained(topics: string[]): Promise<void> {
    try {
      await Promise.all(
        topics.map((topic) => this.mqtt.publish(topic, '', { qos: 1, retain: true })),
      );
    } catch (error) {
      this.logger.error(`could not clear retained messages: ${(error as Error).message}`);
    }
  }

  /** Waits until every state report received so far is written (tests, shutdown). */
  flushStates(): Promise<void> {
    return this.states.flush();
  }
}
