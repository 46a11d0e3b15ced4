import type { PublishOptions } from '@sentinel/broker';

export type MessageHandler = (topic: string, payload: Buffer) => void;

/**
 * The hub's own MQTT connection, whichever broker serves the fleet: the embedded Aedes (in-process
 * calls) or an external broker such as Mosquitto (the hub as an ordinary client).
 */
export interface HubMqtt {
  readonly mode: 'embedded' | 'external';
  publish(topic: string, payload: Buffer | string, options: PublishOptions): Promise<void>;
  subscribe(filter: string, handler: MessageHandler): Promise<void>;
  /**
   * Receives what devices publish, for the hub to record once: with the embedded broker, only the
   * messages that devices connected to THIS hub's broker publish (in a cluster each hub handles its
   * own devices' reports); with an external broker, a subscription as subscribe().
   */
  consume(filter: string, handler: MessageHandler): Promise<void>;
  /** Ends the live session of a device at once; false when this hub cannot (external broker). */
  disconnectDevices(deviceIds: string[]): number;
  /** Ends the live sessions of observers logged in with this API token; 0 when it cannot. */
  disconnectObservers(tokenId: string): number;
  close(): Promise<void>;
}
