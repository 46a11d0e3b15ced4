import type { Aedes, AedesPublishPacket, PublishPacket } from 'aedes';
import { isPublishableTopic } from './acl.js';
import type { BrokerLogger, InProcessHandler, PublishOptions } from './broker-types.js';

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
