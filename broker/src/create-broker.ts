import type { EventEmitter } from 'node:events';
import {
  Aedes,
  type AedesOptions,
  type AedesPublishPacket,
  type AuthenticateError,
  type Client,
  type PublishPacket,
} from 'aedes';
import mqemitter, { type MQEmitter } from 'mqemitter';
import {
  authorize as defaultAuthorize,
  isPublishableTopic,
  type AclAction,
  type AclDecision,
  type Principal,
} from './acl.js';
import {
  openListeners,
  type BoundPorts,
  type BrokerTlsOptions,
  type ConnectionHandler,
  type Listeners,
} from './listeners.js';
import { MAX_PAYLOAD_BYTES } from './messages.js';
import { watchPacketSizes } from './packet-size-guard.js';
import { connectRedisBackend, redactRedisUrl } from './redis-backend.js';
import { stackSafe } from './stack-safe-mq.js';
import type { PeerCertificate } from './tls.js';

/** Room for the topic, packet id and CONNECT fields around a maximal payload. */
const PACKET_OVERHEAD_BYTES = 128 * 1024;
/** Aedes' default `concurrency`: deliveries in flight before its emitter queues. */
const AEDES_CONCURRENCY = 100;

export type DenyReason = 'acl' | 'reserved_topic' | 'payload_too_large' | 'unauthenticated';

export interface DeniedEvent {
  principal: Principal | null;
  clientId: string;
  action: AclAction | 'will';
  topic: string;
  reason: DenyReason;
}

export interface BrokerLogger {
  warn(msg: string): void;
  info(msg: string): void;
}

export interface BrokerOptions {
  /** Interface to listen on; default: all interfaces. */
  host?: string;
  /** MQTT over TCP; 0 picks a free port (see `SentinelBroker.port`); null: no plain listener. */
  port: number | null;
  /** MQTT over WebSocket; null or undefined: no WebSocket listener. */
  wsPort?: number | null;
  /** MQTT over TLS and secure WebSocket (see listeners.ts). */
  tls?: BrokerTlsOptions;
  /** Largest accepted PUBLISH payload (also applies to Last Will payloads). */
  maxPayloadBytes?: number;
  /** Cluster mode: mqemitter-redis + aedes-persistence-redis on this Redis. */
  redisUrl?: string;
  /** How long start-up waits for Redis before failing; default 10 s. */
  redisConnectTimeoutMs?: number;
  /** Broker id (unique per broker of a cluster); default: random. */
  id?: string;
  /**
   * Resolves to null for bad credentials (CONNACK 4); a rejection gives CONNACK 3. `certificate`:
   * the client certificate presented on a TLS listener (null: none, or a plain listener).
   */
  authenticate(
    client: { id: string; certificate: PeerCertificate | null },
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<Principal | null>;
  /** Default: `authorize` from acl.ts. */
  authorize?(principal: Principal, action: AclAction, topic: string): AclDecision;
  onDenied?(event: DeniedEvent): void;
  onClientConnected?(clientId: string, principal: Principal): void;
  onClientDisconnected?(clientId: string, principal: Principal): void;
  logger?: BrokerLogger;
}

export interface PublishOptions {
  qos: 0 | 1;
  retain: boolean;
}

export interface ConnectedClient {
  clientId: string;
  principal: Principal;
}

export type InProcessHandler = (
  topic: string,
  payload: Buffer,
  meta: { qos: number; retain: boolean },
) => void;

export interface SentinelBroker extends Readonly<BoundPorts> {
  readonly aedes: Aedes;
  /** Publishes in-process, as the hub (no ACL; the topic must be publishable, size limit applies). */
  publish(topic: string, payload: Buffer | string, opts: PublishOptions): Promise<void>;
  /**
   * Subscribes in-process, as the hub; resolves to an unsubscribe function. Retained messages are
   * not replayed. In cluster mode every broker's subscriber gets every matching message.
   */
  subscribe(filter: string, handler: InProcessHandler): Promise<() => Promise<void>>;
  /** Closes the connection of a client of this broker; false if it is not connected here. */
  disconnectClient(clientId: string): boolean;
  /** Closes every connection (of this broker) whose principal matches; returns how many. */
  disconnectWhere(predicate: (principal: Principal, clientId: string) => boolean): number;
  /** Authenticated clients connected to this broker. */
  clients(): ConnectedClient[];
  /** Closes clients, the broker, Redis connections and listeners. Idempotent. */
  close(): Promise<void>;
}

type WillMessage = Pick<PublishPacket, 'topic' | 'payload'>;

function authError(returnCode: 2 | 3 | 4 | 5, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function payloadSize(payload: Buffer | string | undefined): number {
  if (payload === undefined) return 0;
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
}

function samePrincipal(a: Principal, b: Principal): boolean {
  if (a.kind === 'device' && b.kind === 'device') return a.deviceId === b.deviceId;
  return a.kind === b.kind;
}

function describePrincipal(p: Principal | null): string {
  if (p === null) return 'unauthenticated';
  return p.kind === 'device' ? `device ${p.deviceId}` : p.kind;
}

const silentLogger: BrokerLogger = { warn: () => {}, info: () => {} };

/**
 * Starts an Aedes MQTT 3.1.1 broker that enforces the Sentinel ACL, on TCP and optionally
 * WebSocket, in memory or clustered through Redis.
 */
export async function createBroker(options: BrokerOptions): Promise<SentinelBroker> {
  const logger = options.logger ?? silentLogger;
  const maxPayload = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  const maxPacket = maxPayload + PACKET_OVERHEAD_BYTES;
  const customAuthorize = options.authorize;
  const authorizeFn = (principal: Principal, action: AclAction, topic: string): AclDecision => {
    if (!customAuthorize) return defaultAuthorize(principal, action, topic);
    try {
      return customAuthorize(principal, action, topic);
    } catch (err) {
      logger.warn(`mqtt: authorize hook threw, denying ${action} on ${topic}: ${String(err)}`);
      return 'deny';
    }
  };
  const principals = new WeakMap<Client, Principal>();
  const pendingWills = new WeakMap<Client, WillMessage>();
  const connected = new Map<string, Client>();
  const certificates = new WeakMap<object, PeerCertificate>();

  // The hooks run inside Aedes callbacks, where an exception would take the process down.
  const callHook = (name: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      logger.warn(`mqtt: ${name} hook threw: ${String(err)}`);
    }
  };

  const denied = (event: DeniedEvent) => {
    logger.warn(
      `mqtt: denied ${event.action} on ${JSON.stringify(event.topic)} for ` +
        `${describePrincipal(event.principal)} (client ${event.clientId}): ${event.reason}`,
    );
    callHook('onDenied', () => options.onDenied?.(event));
  };

  /** Why a principal may not publish a packet, or null if it may. */
  const publishDenial = (principal: Principal, packet: WillMessage): DenyReason | null => {
    if (packet.topic.startsWith('$')) return 'reserved_topic';
    if (payloadSize(packet.payload) > maxPayload) return 'payload_too_large';
    return authorizeFn(principal, 'publish', packet.topic) === 'allow' ? null : 'acl';
  };

  const aedesOptions: AedesOptions = {
    preConnect(client, packet, callback) {
      // The will is only known here; authenticate checks it once the principal is known.
      if (packet.will)
        pendingWills.set(client, { topic: packet.will.topic, payload: packet.will.payload });
      callback(null, true);
    },

    authenticate(client, username, password, done) {
      // Promise.resolve().then: a hook that throws synchronously is a rejection too.
      Promise.resolve()
        .then(() => {
          const certificate = certificates.get(client.conn) ?? null;
          return options.authenticate({ id: client.id, certificate }, username, password);
        })
        .then(
          (principal) => {
            if (principal === null) {
              logger.info(`mqtt: bad credentials for client ${client.id}`);
              return done(authError(4, 'bad user name or password'), false);
            }
            if (principal.kind === 'device' && client.id !== principal.deviceId) {
              // Client ids are session identities: a device using another id could take over
              // (and close) that client's session.
              logger.warn(`mqtt: device ${principal.deviceId} connected as client ${client.id}`);
              return done(authError(2, 'client id must be the device id'), false);
            }
            const existing = connected.get(client.id);
            const existingPrincipal = existing && principals.get(existing);
            if (existingPrincipal && !samePrincipal(existingPrincipal, principal)) {
              logger.warn(
                `mqtt: ${describePrincipal(principal)} tried to take over client ${client.id} ` +
                  `of ${describePrincipal(existingPrincipal)}`,
              );
              return done(authError(2, 'client id in use by another principal'), false);
            }
            const will = pendingWills.get(client);
            pendingWills.delete(client);
            const willDenial = will ? publishDenial(principal, will) : null;
            if (will && willDenial) {
              denied({
                principal,
                clientId: client.id,
                action: 'will',
                topic: will.topic,
                reason: willDenial,
              });
              return done(authError(5, 'last will not authorized'), false);
            }
            principals.set(client, principal);
            done(null, true);
          },
          (err: unknown) => {
            logger.warn(`mqtt: authenticate failed for client ${client.id}: ${String(err)}`);
            done(authError(3, 'authentication unavailable'), false);
          },
        );
    },

    authorizePublish(client, packet, callback) {
      if (client === null) {
        // A will left by a broker of the cluster that died: it was authorized at CONNECT.
        const ok = !packet.topic.startsWith('$') && payloadSize(packet.payload) <= maxPayload;
        return callback(ok ? null : new Error('will refused'));
      }
      const principal = principals.get(client) ?? null;
      const reason = principal === null ? 'unauthenticated' : publishDenial(principal, packet);
      if (reason === null) return callback(null);
      denied({ principal, clientId: client.id, action: 'publish', topic: packet.topic, reason });
      // An error makes aedes close the connection: MQTT 3.1.1 has no negative PUBACK.
      callback(new Error(`publish to ${packet.topic} denied: ${reason}`));
    },

    authorizeSubscribe(client, subscription, callback) {
      const principal = principals.get(client) ?? null;
      if (
        principal !== null &&
        authorizeFn(principal, 'subscribe', subscription.topic) === 'allow'
      ) {
        return callback(null, subscription);
      }
      const reason = principal === null ? 'unauthenticated' : 'acl';
      denied({
        principal,
        clientId: client.id,
        action: 'subscribe',
        topic: subscription.topic,
        reason,
      });
      // null grants 0x80 (failure) for this filter and keeps the connection.
      callback(null, null);
    },
  };
  if (options.id !== undefined) aedesOptions.id = options.id;

  const redis =
    options.redisUrl === undefined
      ? null
      : await connectRedisBackend(
          options.redisUrl,
          logger.warn.bind(logger),
          options.redisConnectTimeoutMs ?? 10_000,
        );
  // Aedes' own default emitter (concurrency 100, empty levels match [MQTT-4.7.1-3]), made stack-safe.
  aedesOptions.mq = stackSafe(
    (redis?.mq as MQEmitter | undefined) ??
      mqemitter({ concurrency: AEDES_CONCURRENCY, matchEmptyLevels: true }),
  );
  if (redis) aedesOptions.persistence = redis.persistence;

  let aedes: Aedes;
  try {
    aedes = await Aedes.createBroker(aedesOptions);
  } catch (err) {
    redis?.abort();
    throw err;
  }
  (aedes as EventEmitter).on('error', (err: Error) =>
    logger.warn(`mqtt: broker error: ${err.message}`),
  );
  aedes.on('client', (client) => {
    connected.set(client.id, client);
  });
  aedes.on('clientReady', (client) => {
    const principal = principals.get(client);
    if (principal)
      callHook('onClientConnected', () => options.onClientConnected?.(client.id, principal));
  });
  aedes.on('clientDisconnect', (client) => {
    if (connected.get(client.id) === client) connected.delete(client.id);
    const principal = principals.get(client);
    if (principal) {
      callHook('onClientDisconnected', () => options.onClientDisconnected?.(client.id, principal));
    }
  });

  const handle: ConnectionHandler = (stream, req, certificate) => {
    if (certificate) certificates.set(stream, certificate);
    aedes.handle(stream, req);
    watchPacketSizes(stream, maxPacket, (announced) => {
      logger.warn(`mqtt: dropping a connection that announced a ${announced}-byte packet`);
      stream.destroy();
    });
  };

  let listeners: Listeners | null = null;
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Broker first: closing the listeners first waits for connected clients forever.
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await redis?.close();
      await listeners?.close();
    })();
    return closing;
  };

  try {
    const spec = { host: options.host, port: options.port, tls: options.tls, maxPacket };
    listeners = await openListeners({ ...spec, wsPort: options.wsPort ?? null }, handle, logger);
  } catch (err) {
    await close();
    throw err;
  }
  const ports = listeners.ports;
  const bound = [
    [ports.port, 'tcp'],
    [ports.wsPort, 'ws'],
    [ports.tlsPort, 'tls'],
    [ports.wssPort, 'wss'],
  ].filter(([port]) => port !== null);
  logger.info(
    `mqtt: listening on ${bound.map(([port, kind]) => `${port}/${kind}`).join(', ')}` +
      (options.redisUrl ? ` (cluster through Redis ${redactRedisUrl(options.redisUrl)})` : ''),
  );

  return {
    aedes,
    ...ports,

    publish(topic, payload, opts) {
      if (!isPublishableTopic(topic)) {
        return Promise.reject(new TypeError(`not a publishable topic: ${JSON.stringify(topic)}`));
      }
      const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
      if (body.length > maxPayload) {
        return Promise.reject(
          new RangeError(`payload of ${body.length} bytes exceeds ${maxPayload}`),
        );
      }
      const packet: PublishPacket = {
        cmd: 'publish',
        topic,
        payload: body,
        qos: opts.qos,
        retain: opts.retain,
        dup: false,
      };
      return new Promise((resolve, reject) => {
        aedes.publish(packet, (err) => (err ? reject(err) : resolve()));
      });
    },

    async subscribe(filter, handler) {
      const deliver = (packet: AedesPublishPacket, done: () => void) => {
        try {
          const payload =
            typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
          handler(packet.topic, payload, { qos: packet.qos, retain: packet.retain });
        } catch (err) {
          logger.warn(`mqtt: in-process handler for ${filter} threw: ${String(err)}`);
        } finally {
          done();
        }
      };
      await new Promise<void>((resolve) => aedes.subscribe(filter, deliver, resolve));
      return () => new Promise<void>((resolve) => aedes.unsubscribe(filter, deliver, resolve));
    },

    disconnectClient(clientId) {
      const client = connected.get(clientId);
      if (!client) return false;
      client.close();
      return true;
    },

    disconnectWhere(predicate) {
      let count = 0;
      for (const [clientId, client] of [...connected]) {
        const principal = principals.get(client);
        if (principal && predicate(principal, clientId)) {
          client.close();
          count += 1;
        }
      }
      return count;
    },

    clients() {
      const list: ConnectedClient[] = [];
      for (const [clientId, client] of connected) {
        const principal = principals.get(client);
        if (principal) list.push({ clientId, principal });
      }
      return list;
    },

    close,
  };
}
