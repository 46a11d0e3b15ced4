import {
  createBroker,
  type BrokerOptions,
  type PublishOptions,
  type SentinelBroker,
} from '@sentinel/broker';
import type { HubMqtt, MessageHandler } from './hub-mqtt.js';

/** The embedded Aedes broker: the hub publishes and subscribes in-process. */
export class EmbeddedMqtt implements HubMqtt {
  readonly mode = 'embedded' as const;

  private constructor(readonly broker: SentinelBroker) {}

  static async start(options: BrokerOptions): Promise<EmbeddedMqtt> {
    return new EmbeddedMqtt(await createBroker(options));
  }

  publish(topic: string, payload: Buffer | string, options: PublishOptions): Promise<void> {
    return this.broker.publish(topic, payload, options);
  }

  async subscribe(filter: string, handler: MessageHandler): Promise<void> {
    await this.broker.subscribe(filter, (topic, payload) => handler(topic, payload));
  }

  /**
   * The broker's publish hook (SentinelBroker.onClientPublish), not a subscription: in cluster mode
   * (REDIS_URL) every hub's subscription gets every device's message through Redis, so each report
   * would be written once per hub. The hook fires only on the broker the device is connected to.
   */
  consume(filter: string, handler: MessageHandler): Promise<void> {
    this.broker.onClientPublish(filter, (topic, payload) => handler(topic, payload));
    return Promise.resolve();
  }

  disconnectDevices(deviceIds: string[]): number {
    const ids = new Set(deviceIds);
    return this.broker.disconnectWhere(
      (principal) => principal.kind === 'device' && ids.has(principal.deviceId),
    );
  }

  disconnectObservers(tokenId: string): number {
    return this.broker.disconnectWhere(
      (principal) => principal.kind === 'observer' && principal.credentialId === tokenId,
    );
  }

  close(): Promise<void> {
    return this.broker.close();
  }
}
