// One device's MQTT client for the benches that play many plain devices (fanout, ingest,
// capacity): connected as the device, settled once (ready, or the first failure, which ends it).
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { DeviceLogin } from './fanout-ipc.js';

export interface DeviceClientOptions {
  timeoutMs: number;
  /** What the client waits for, for the failure messages ("SUBACK", "the state report"). */
  awaits: string;
  will?: IClientOptions['will'];
  /** After CONNACK: what makes the client ready (subscribe, publish...); throws on failure. */
  ready?: (client: MqttClient) => Promise<void>;
  /** The connection closed after the client was ready (counted by the caller). */
  onLateClose?: () => void;
  onMessage?: (topic: string, payload: Buffer) => void;
}

/** Resolves with the client once it is connected and `ready`; ends it on any failure. */
export function connectDeviceClient(
  url: string,
  login: DeviceLogin,
  o: DeviceClientOptions,
): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = connect(url, {
      clientId: login.id,
      username: login.id,
      password: login.password,
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 0,
      connectTimeout: o.timeoutMs,
      ...(o.will ? { will: o.will } : {}),
    });
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end(true);
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`timed out before ${o.awaits}`)), o.timeoutMs);
    // An EventEmitter without an 'error' listener would throw; late errors show up as closes.
    client.on('error', (error) => fail(error));
    client.on('close', () => {
      if (settled) o.onLateClose?.();
      else fail(new Error(`closed before ${o.awaits}`));
    });
    if (o.onMessage) client.on('message', o.onMessage);
    client.once('connect', () => {
      (o.ready ? o.ready(client) : Promise.resolve())
        .then(() => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(client);
        })
        .catch((error: Error) => fail(error));
    });
  });
}
