import { connectAsync, type MqttClient } from 'mqtt';
import { api, type TestHub } from './hub.js';

export interface DeviceCredentialsResponse {
  id: string;
  credentials: { username: string; password: string; client_id: string };
}

export async function createGroup(
  hub: TestHub,
  name: string,
  environment = 'production',
): Promise<void> {
  const response = await api(hub)('/api/v1/groups', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, environment }),
  });
  if (response.status !== 201)
    throw new Error(`group ${name}: HTTP ${response.status} ${await response.text()}`);
}

export async function createDevice(
  hub: TestHub,
  id: string,
  group: string,
): Promise<DeviceCredentialsResponse> {
  const response = await api(hub)('/api/v1/devices', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, group }),
  });
  if (response.status !== 201)
    throw new Error(`device ${id}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as DeviceCredentialsResponse;
}

export async function pinGroup(
  hub: TestHub,
  group: string,
  modelId: string,
): Promise<Record<string, unknown>> {
  const response = await api(hub)(`/api/v1/groups/${group}/desired`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model_id: modelId }),
  });
  if (response.status !== 200)
    throw new Error(`pin ${group}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as Record<string, unknown>;
}

/** An mqtt.js client logged in as the device (MQTT 3.1.1, no automatic reconnect). */
export function connectDevice(url: string, device: DeviceCredentialsResponse): Promise<MqttClient> {
  return connectAsync(url, {
    clientId: device.credentials.client_id,
    username: device.credentials.username,
    password: device.credentials.password,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
}

/** The next message the client receives, parsed as JSON. */
export function nextJsonMessage<T = Record<string, unknown>>(client: MqttClient): Promise<T> {
  return new Promise((resolve) =>
    client.once('message', (_topic, payload) => resolve(JSON.parse(payload.toString()) as T)),
  );
}
