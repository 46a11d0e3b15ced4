import type { Aedes, AedesPublishPacket, Client, PublishPacket } from 'aedes';
import { isPublishableTopic } from './acl.js';
import type {
  BrokerLogger,
  ClientPublishHandler,
  InProcessHandler,
  PublishOptions,
} from './broker-types.js';
import { topicMatches } from './topics.js';

/** Publishes as the hub: no ACL, but the topic must be publishable and the size limit applies. */
export function publishInProcess(
  aedes: Aedes,
  maxPayload: number,
  topic: string,
  payload: Buffer | string,
  opts: PublishOptions,
): Promise<void> {
  if (!isPublishableTopic(topic)) {
    return Promise.reject(new TypeError(`not a publishable topic: ${JSON.stringify(topic)}`));
  }
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  if (body.length > maxPayload) {
    return Promise.reject(new RangeError(`payload of ${body.length} bytes exceeds ${maxPayload}`));
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
}

/** Subscribes as the hub; a handler that throws is logged and does not stop deliveries. */
export async function subscribeInProcess(
  aedes: Aedes,
  filter: string,
  handler: InProcessHandler,
  logger: BrokerLogger,
): Promise<() => Promise<void>> {
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
}

/**
 * Calls `handler` for each message matching `filter` that enters the cluster through THIS broker:
 * a PUBLISH of one of its clients, the will of a client that left it, or the will of a client of
 * a dead cluster member that this broker publishes. Never for messages that other brokers of the
 * cluster received, nor for the hub's own publishes, so in a cluster each report is handled once.
 *
 * Aedes 1.2 (node_modules/aedes/aedes.js) emits `'publish' (packet, client)` from callPublished,
 * the last step of `Aedes.publish` (after storeRetained and emitPacket, so the message is already
 * retained and handed to the emitter). Its callers: the PUBLISH handler (lib/handlers/publish.js:
 * `client.broker.publish(packet, client, done)`), a client's will (lib/client.js: `publish(will,
 * that, done)`), and the broker's own publishes, `publish(packet, done)`, which set `client = null`
 * ($SYS heartbeats, in-process publishes of the hub, and _clearWills for the wills a dead broker
 * left in the persistence, which carry the `brokerId` that putWill stored). Messages from other
 * brokers reach this one through the mqemitter (mqemitter-redis) and go straight to the
 * subscribers (`Aedes.subscribe` = `mq.on`): they never pass through `Aedes.publish`, so they
 * emit nothing here. A PUBLISH dropped by the rate limit (publish-drop.ts) does not reach it either.
 */
export function onClientPublishInProcess(
  aedes: Aedes,
  filter: string,
  handler: ClientPublishHandler,
  logger: BrokerLogger,
): () => void {
  const listener = (packet: AedesPublishPacket, client: Client | null) => {
    const orphanWill = client === null && isStoredWill(packet);
    if (client === null && !orphanWill) return;
    if (!topicMatches(filter, packet.topic)) return;
    try {
      const payload =
        typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      handler(
        packet.topic,
        payload,
        { qos: packet.qos, retain: packet.retain },
        client?.id ?? (packet as { clientId?: string }).clientId ?? null,
      );
    } catch (err) {
      logger.warn(`mqtt: client publish handler for ${filter} threw: ${String(err)}`);
    }
  };
  aedes.on('publish', listener);
  return () => void aedes.removeListener('publish', listener);
}

/** The broker that stored a will (putWill adds its id and the client id); undefined: not a will. */
export function willBrokerId(packet: object): string | undefined {
  const id = (packet as { brokerId?: unknown }).brokerId;
  return typeof id === 'string' ? id : undefined;
}

function isStoredWill(packet: object): boolean {
  return willBrokerId(packet) !== undefined;
}
