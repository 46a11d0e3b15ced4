import { connectAsync, type MqttClient } from 'mqtt';
import { topicMatches, type PublishOptions } from '@sentinel/broker';
import type { HubMqtt, MessageHandler } from './hub-mqtt.js';

/** The hub as a client of an external broker (MQTT_URL). Its ACL must let the hub user do everything. */
export class ExternalMqtt implements HubMqtt {
  readonly mode = 'external' as const;
  private readonly handlers: { filter: string; handler: MessageHandler }[] = [];

  private constructor(private readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      for (const { filter, handler } of this.handlers)
        if (topicMatches(filter, topic)) handler(topic, payload);
    });
  }

  static async connect(
    url: string,
    username: string,
    password: string | undefined,
  ): Promise<ExternalMqtt> {
    const client = await connectAsync(url, {
      username,
      password,
      clientId: `sentinel-hub-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      protocolVersion: 4,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    return new ExternalMqtt(client);
  }

  async publish(topic: string, payload: Buffer | string, options: PublishOptions): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: options.qos, retain: options.retain });
  }

  async subscribe(filter: string, handler: MessageHandler): Promise<void> {
    this.handlers.push({ filter, handler });
    const granted = await this.client.subscribeAsync(filter, { qos: 1 });
    if (granted.some((grant) => grant.qos === 128))
      throw new Error(`the external broker refused the hub's subscription to ${filter}`);
  }

  /**
   * A subscription, as before: MQTT 3.1.1 has no shared subscriptions, so several hubs on one
   * external broker each receive (and write) every report. Run one hub per external broker.
   */
  consume(filter: string, handler: MessageHandler): Promise<void> {
    return this.subscribe(filter, handler);
  }

  disconnectDevices(): number {
    return 0;
  }

  disconnectObservers(): number {
    return 0;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
