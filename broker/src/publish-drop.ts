import type { Aedes } from 'aedes';

type Done = (error?: Error) => void;
type PublishFn = (packet: object, client: unknown, done?: Done) => void;

/**
 * Lets the broker drop a client's PUBLISH without closing its connection. Aedes has no such verdict
 * (an error from authorizePublish closes the connection, as MQTT 3.1.1 has no negative PUBACK), so
 * this wraps the instance's `publish`, which its protocol handlers call with the very packet object
 * authorizePublish saw: a packet marked with the returned function is acknowledged as usual (PUBACK
 * for QoS 1) and delivered to nobody. Used for rate limits, where closing would make the device
 * reconnect and send again.
 */
export function installPublishDrop(aedes: Aedes): (packet: object) => void {
  const dropped = new WeakSet<object>();
  const target = aedes as unknown as { publish: PublishFn };
  const publish = target.publish.bind(aedes);
  target.publish = (packet, client, done) => {
    if (dropped.delete(packet)) {
      const callback = typeof client === 'function' ? (client as Done) : done;
      callback?.();
      return;
    }
    publish(packet, client, done);
  };
  return (packet) => void dropped.add(packet);
}
