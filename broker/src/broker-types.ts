import type { Aedes } from 'aedes';
import type { AclAction, AclDecision, Principal } from './acl.js';
import type { ConnectRefusal } from './connect-policy.js';
import type { BoundPorts, BrokerTlsOptions } from './listeners.js';
import type { PeerCertificate } from './tls.js';
import type { RateLimit } from './token-bucket.js';

export type DenyReason =
  'acl' | 'reserved_topic' | 'payload_too_large' | 'unauthenticated' | 'rate_limited';

export interface DeniedEvent {
  principal: Principal | null;
  clientId: string;
  action: AclAction | 'will';
  topic: string;
  reason: DenyReason;
}

/** A refused CONNECT: who tried, the CONNACK return code sent and why. */
export interface RefusedConnectEvent extends ConnectRefusal {
  clientId: string;
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
   * Aedes' heartbeat: a cluster member silent for 3 of them is dead, and every 4 of them each broker
   * publishes the wills dead members left; default 60 s (tests shorten it).
   */
  heartbeatIntervalMs?: number;
  /**
   * Resolves to null for bad credentials (CONNACK 4); a rejection gives CONNACK 3. `client.id` is
   * the client id after the observer namespace is applied; `certificate`: the client certificate
   * presented on a TLS listener (null: none, or a plain listener).
   */
  authenticate(
    client: { id: string; certificate: PeerCertificate | null },
    username: string | undefined,
    password: Buffer | undefined,
  ): Promise<Principal | null>;
  /** Default: `authorize` from acl.ts. */
  authorize?(principal: Principal, action: AclAction, topic: string): AclDecision;
  /**
   * The user name whose client ids are put under `observer:` (default "observer"): the
   * authenticate hook must map only this user name to observers.
   */
  observerUsername?: string;
  /** Per-device limit on telemetry messages; beyond it they are dropped (connection kept). */
  telemetryLimit?: RateLimit | null;
  /** Refusals (CONNECT, subscribe, publish) logged per interval; the rest only counted. */
  refusalLog?: { lines: number; intervalMs: number };
  onDenied?(event: DeniedEvent): void;
  onConnectRefused?(event: RefusedConnectEvent): void;
  /** Called once per session when it is ready, and once when it ends (never without the first). */
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

/** A message a client published through this broker; clientId null when unknown. */
export type ClientPublishHandler = (
  topic: string,
  payload: Buffer,
  meta: { qos: number; retain: boolean },
  clientId: string | null,
) => void;

/** The ports actually bound (`port`: TCP, `wsPort`, `tlsPort`, `wssPort`); null: not open. */
export interface SentinelBroker extends Readonly<BoundPorts> {
  readonly aedes: Aedes;
  /** Publishes in-process, as the hub (no ACL; the topic must be publishable, size limit applies). */
  publish(topic: string, payload: Buffer | string, opts: PublishOptions): Promise<void>;
  /**
   * Subscribes in-process, as the hub; resolves to an unsubscribe function. Retained messages are
   * not replayed. In cluster mode every broker's subscriber gets every matching message.
   */
  subscribe(filter: string, handler: InProcessHandler): Promise<() => Promise<void>>;
  /**
   * Calls the handler for each matching message published by a client of THIS broker (its PUBLISH
   * or its will; also the wills of a dead cluster member's clients that this broker publishes),
   * never for messages other brokers of the cluster received nor for in-process publishes: in a
   * cluster each message is seen by one broker. Returns a function that removes the handler.
   */
  onClientPublish(filter: string, handler: ClientPublishHandler): () => void;
  /** Closes the connection of a client of this broker; false if it is not connected here. */
  disconnectClient(clientId: string): boolean;
  /** Closes every connection (of this broker) whose principal matches; returns how many. */
  disconnectWhere(predicate: (principal: Principal, clientId: string) => boolean): number;
  /** Authenticated clients connected to this broker. */
  clients(): ConnectedClient[];
  /** Closes clients, the broker, Redis connections and listeners. Idempotent. */
  close(): Promise<void>;
}
