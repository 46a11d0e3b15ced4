// What an agent needs to reach the hub, as environment lines, and the model a desired state names.
// Pure and without dependencies: the CLI prints these and the web console shows them.
import type { DeviceWithCredentialsDto as DeviceWithCredentials } from './hub-api.generated.js';

/** A desired state as the hub sends it (docs/protocol/desired-state.json), or none. */
type DesiredState = Record<string, unknown> | null;

/** `name@version` of the model a desired state names, or '-'. */
export function desiredModel(desired: DesiredState | undefined): string {
  const model = desired?.model as { name?: unknown; version?: unknown } | null | undefined;
  if (!model || typeof model.name !== 'string' || typeof model.version !== 'string') return '-';
  return `${model.name}@${model.version}`;
}

/** Where the agent finds its hub and broker (edge-agent/src/config.ts reads these names). */
export interface AgentEndpoints {
  hubUrl: string;
  mqttUrl: string;
}

/** The broker address an agent most likely uses: the hub's host, MQTT's default port (TLS for https). */
export function defaultMqttUrl(hubUrl: string): string {
  const url = new URL(hubUrl);
  return url.protocol === 'https:' ? `mqtts://${url.hostname}:8883` : `mqtt://${url.hostname}:1883`;
}

/** A value as an environment-file line accepts it: bare when safe, else single-quoted. */
export function envValue(value: string): string {
  return /^[A-Za-z0-9._~+/=:@%,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The agent's environment, as the SENTINEL_* variables edge-agent/src/config.ts reads. */
export function agentEnvironment(
  issued: DeviceWithCredentials,
  endpoints: AgentEndpoints,
): Record<string, string> {
  return {
    SENTINEL_HUB_URL: endpoints.hubUrl,
    SENTINEL_MQTT_URL: endpoints.mqttUrl,
    SENTINEL_DEVICE_ID: issued.id,
    SENTINEL_MQTT_USERNAME: issued.credentials.username,
    SENTINEL_MQTT_PASSWORD: issued.credentials.password,
  };
}

/** stdout of `device create|rotate`: only the environment lines, so `> agent.env` keeps a usable file. */
export function formatAgentEnvironment(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([key, value]) => `${key}=${envValue(value)}\n`)
    .join('');
}
