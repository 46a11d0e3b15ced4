import type { EventEmitter } from 'node:events';
import {
  Aedes,
  type AedesOptions,
  type AuthenticateError,
  type Client,
  type PublishPacket,
} from 'aedes';
import {
  authorize as defaultAuthorize,
  type AclAction,
  type AclDecision,
  type Principal,
} from './acl.js';
import type {
  BrokerLogger,
  BrokerOptions,
  ConnectedClient,
  DeniedEvent,
  DenyReason,
  SentinelBroker,
} from './broker-types.js';
import { createBackend } from './backend.js';
import { BoundedLog, DEFAULT_BOUNDED_LOG } from './bounded-log.js';
import {
  BAD_CREDENTIALS,
  describePrincipal,
  OBSERVER_USERNAME,
  observerClientId,
  protocolRefusal,
  sessionRefusal,
  UNAVAILABLE,
  WILL_REFUSED,
  type ConnectRefusal,
} from './connect-policy.js';
import {
  createListeners,
  describePorts,
  type BoundPorts,
  type ConnectionHandler,
  type Listeners,
} from './listeners.js';
import { MAX_PAYLOAD_BYTES } from './messages.js';
import { watchPacketSizes } from './packet-size-guard.js';
import {
  onClientPublishInProcess,
  publishInProcess,
  subscribeInProcess,
  willBrokerId,
} from './in-process.js';
import { installPublishDrop } from './publish-drop.js';
import { redactRedisUrl } from './redis-backend.js';
import { SessionTable } from './session-table.js';
import { TokenBuckets } from './token-bucket.js';
import type { PeerCertificate } from './tls.js';
import { parseTopic } from './topics.js';

/** Room for the topic, packet id and CONNECT fields around a maximal payload. */
const PACKET_OVERHEAD_BYTES = 128 * 1024;

export type * from './broker-types.js';

type WillMessage = Pick<PublishPacket, 'topic' | 'payload'>;

function authError(refusal: ConnectRefusal): AuthenticateError {
  return Object.assign(new Error(refusal.message), {
    returnCode: refusal.returnCode,
  }) as AuthenticateError;
}

function payloadSize(payload: Buffer | string | undefined): number {
  if (payload === undefined) return 0;
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
}

/** An untrusted string for a log line: quoted (no line breaks) and cut short. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
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
  const observerUsername = options.observerUsername ?? OBSERVER_USERNAME;
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
  // The client certificate of each TLS connection (mTLS), by the connection's stream.
  const certificates = new WeakMap<object, PeerCertificate>();
  const telemetryBuckets = options.telemetryLimit ? new TokenBuckets(options.telemetryLimit) : null;
  // Refusals can be triggered at will from outside: each is counted, few are logged.
  const bounded = () =>
    new BoundedLog(logger.warn.bind(logger), options.refusalLog ?? DEFAULT_BOUNDED_LOG);
  const logs = { connect: bounded(), denied: bounded(), rateLimited: bounded() };

  // The hooks run inside Aedes callbacks, where an exception would take the process down.
  const callHook = (name: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      logger.warn(`mqtt: ${name} hook threw: ${String(err)}`);
    }
  };

  const denied = (event: DeniedEvent) => {
    (event.reason === 'rate_limited' ? logs.rateLimited : logs.denied).report(
      `mqtt: denied ${event.action} on ${quote(event.topic)} for ` +
        `${describePrincipal(event.principal)} (client ${quote(event.clientId)}): ${event.reason}`,
    );
    callHook('onDenied', () => options.onDenied?.(event));
  };

  const refuseConnect = (clientId: string, refusal: ConnectRefusal) => {
    logs.connect.report(
      `mqtt: refused CONNECT of client ${quote(clientId)}: ${refusal.message} (CONNACK ${refusal.returnCode})`,
    );
    callHook('onConnectRefused', () => options.onConnectRefused?.({ clientId, ...refusal }));
  };

  /** Why a principal may not publish a packet, or null if it may. */
  const publishDenial = (principal: Principal, packet: WillMessage): DenyReason | null => {
    if (packet.topic.startsWith('$')) return 'reserved_topic';
    if (payloadSize(packet.payload) > maxPayload) return 'payload_too_large';
    return authorizeFn(principal, 'publish', packet.topic) === 'allow' ? null : 'acl';
  };

  /** Whether a device's telemetry message is over its rate limit. */
  const overLimit = (principal: Principal, topic: string): boolean => {
    if (!telemetryBuckets || principal.kind !== 'device') return false;
    if (parseTopic(topic)?.kind !== 'device_telemetry') return false;
    return !telemetryBuckets.take(principal.deviceId, Date.now());
  };

  const sessions = new SessionTable<Client>({
    connected: (client) => {
      const principal = principals.get(client);
      if (principal)
        callHook('onClientConnected', () => options.onClientConnected?.(client.id, principal));
    },
    disconnected: (client) => {
      const principal = principals.get(client);
      if (principal)
        callHook('onClientDisconnected', () =>
          options.onClientDisconnected?.(client.id, principal),
        );
    },
  });
  let dropPublish: (packet: object) => void = () => {};

  const aedesOptions: AedesOptions = {
    preConnect(client, packet, callback) {
      const refusal = protocolRefusal(packet.protocolVersion ?? 0);
      if (refusal) {
        refuseConnect(packet.clientId, refusal);
        // Aedes answers CONNACK 1 itself to levels outside 3..4; level 3 (MQTT 3.1) is made one of
        // those ("the packet can be modified" here, says its documentation).
        packet.protocolVersion = 0 as typeof packet.protocolVersion;
        return callback(null, true);
      }
      // Observers get client ids of their own, so that they can never lock a device out.
      if (packet.username === observerUsername) packet.clientId = observerClientId(packet.clientId);
      // The will is only known here; authenticate checks it once the principal is known.
      if (packet.will)
        pendingWills.set(client, { topic: packet.will.topic, payload: packet.will.payload });
      callback(null, true);
    },

    authenticate(client, username, password, done) {
      const refuse = (refusal: ConnectRefusal) => {
        refuseConnect(client.id, refusal);
        done(authError(refusal), false);
      };
      // Promise.resolve().then: a hook that throws synchronously is a rejection too.
      Promise.resolve()
        .then(() => {
          const certificate = certificates.get(client.conn) ?? null;
          return options.authenticate({ id: client.id, certificate }, username, password);
        })
        .then(
          (principal) => {
            if (principal === null) return refuse(BAD_CREDENTIALS);
            const holder = sessions.get(client.id);
            const holderPrincipal = (holder && principals.get(holder)) ?? null;
            const sessionRefused = sessionRefusal(principal, client.id, holderPrincipal);
            if (sessionRefused) return refuse(sessionRefused);
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
              return refuse(WILL_REFUSED);
            }
            principals.set(client, principal);
            done(null, true);
          },
          // A credential store that is down fails every CONNECT: one bounded log for them all.
          (err: unknown) =>
            refuse({ ...UNAVAILABLE, message: `${UNAVAILABLE.message}: ${String(err)}` }),
        );
    },

    authorizePublish(client, packet, callback) {
      const willOf = willBrokerId(packet);
      if (client !== null && willOf !== undefined && willOf !== brokerId) {
        // Aedes' _clearWills publishes the wills a dead cluster member left, authorized with the
        // client of that id connected to THIS broker if there is one: the device came back here,
        // so its "offline" will is stale. Acknowledged (the sweep deletes it), delivered to nobody.
        dropPublish(packet);
        return callback(null);
      }
      if (client === null) {
        // A will left by a broker of the cluster that died: it was authorized at CONNECT.
        const ok = !packet.topic.startsWith('$') && payloadSize(packet.payload) <= maxPayload;
        return callback(ok ? null : new Error('will refused'));
      }
      const principal = principals.get(client) ?? null;
      const reason = principal === null ? 'unauthenticated' : publishDenial(principal, packet);
      if (reason === null) {
        if (principal && overLimit(principal, packet.topic)) {
          // Dropped, connection kept: closing would only make the device reconnect and resend.
          dropPublish(packet);
          denied({
            principal,
            clientId: client.id,
            action: 'publish',
            topic: packet.topic,
            reason: 'rate_limited',
          });
        }
        return callback(null);
      }
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
  if (options.heartbeatIntervalMs !== undefined)
    aedesOptions.heartbeatInterval = options.heartbeatIntervalMs;
  let brokerId = '';

  const backend = await createBackend(options, logger);
  aedesOptions.mq = backend.mq;
  aedesOptions.persistence = backend.persistence;

  let aedes: Aedes;
  try {
    aedes = await Aedes.createBroker(aedesOptions);
  } catch (err) {
    backend.abort();
    throw err;
  }
  brokerId = aedes.id;
  dropPublish = installPublishDrop(aedes);
  (aedes as EventEmitter).on('error', (err: Error) =>
    logger.warn(`mqtt: broker error: ${err.message}`),
  );
  aedes.on('client', (client) => {
    sessions.registered(client);
    // Also on the connection's own end: Aedes does not unregister every client it closes.
    client.conn.once('close', () => sessions.gone(client));
  });
  aedes.on('clientReady', (client) => sessions.ready(client));
  aedes.on('clientDisconnect', (client) => sessions.gone(client));

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
      await backend.close();
      await listeners?.close();
      for (const log of Object.values(logs)) log.flush();
    })();
    return closing;
  };

  let ports: BoundPorts;
  try {
    // Unusable TLS files throw here (TlsFilesError): the broker and Redis are closed again.
    listeners = createListeners(
      {
        host: options.host,
        port: options.port,
        wsPort: options.wsPort,
        tls: options.tls,
        maxWsMessageBytes: maxPacket,
        logger,
      },
      handle,
    );
    ports = await listeners.listen();
  } catch (err) {
    await close();
    throw err;
  }
  logger.info(
    `mqtt: listening on ${describePorts(ports)}` +
      (options.redisUrl ? ` (cluster through Redis ${redactRedisUrl(options.redisUrl)})` : ''),
  );

  return {
    aedes,
    ...ports,

    publish: (topic, payload, opts) => publishInProcess(aedes, maxPayload, topic, payload, opts),
    subscribe: (filter, handler) => subscribeInProcess(aedes, filter, handler, logger),
    onClientPublish: (filter, handler) => onClientPublishInProcess(aedes, filter, handler, logger),

    disconnectClient(clientId) {
      const client = sessions.get(clientId);
      if (!client) return false;
      client.close();
      return true;
    },

    disconnectWhere(predicate) {
      let count = 0;
      for (const client of sessions.registeredClients()) {
        const principal = principals.get(client);
        if (principal && predicate(principal, client.id)) {
          client.close();
          count += 1;
        }
      }
      return count;
    },

    clients() {
      const list: ConnectedClient[] = [];
      for (const client of sessions.registeredClients()) {
        const principal = principals.get(client);
        if (principal) list.push({ clientId: client.id, principal });
      }
      return list;
    },

    close,
  };
}
