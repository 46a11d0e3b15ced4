import type { MqttClient } from 'mqtt';

/**
 * Ends an MQTT client without waiting on a broker that is not there. A connected client first
 * publishes its goodbye (the retained offline state: a clean stop says so, the Last Will covers
 * the unclean ones) and disconnects cleanly, each within `graceMs`; a client that is not
 * connected (in its reconnect loop) is ended at once: a publish would only wait in its offline
 * queue for a connection that may never come.
 */
export async function closeMqtt(
  client: MqttClient,
  goodbye: { topic: string; payload: Buffer },
  graceMs: number,
): Promise<void> {
  if (client.connected) {
    await within(
      client.publishAsync(goodbye.topic, goodbye.payload, { qos: 1, retain: true }),
      graceMs,
    );
    if (await within(client.endAsync(false), graceMs)) return;
  }
  await within(client.endAsync(true), graceMs);
}

/** Whether `promise` settled successfully within `ms`; never rejects. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => false,
      ),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
