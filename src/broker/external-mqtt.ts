import { connectAsync, type MqttClient } from 'mqtt';
import type { PublishOptions } from '@sentinel/broker';
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

/** MQTT filter matching ([MQTT-4.7.1]): "+" one level, "#" the rest. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}
