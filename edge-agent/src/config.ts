import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ID_PATTERN } from '@sentinel/broker/protocol';
import { parseTrustedKeys, type TrustedKey } from '@sentinel/broker/signing';
import { ORT_LOG_LEVELS, type OrtLogLevel } from './inference/ort-log.js';
import { loadClientTls, type ClientTls } from './tls.js';
import { SETTINGS } from './settings.js';

export { SETTINGS, settingsHelp } from './settings.js';

type EnvName = (typeof SETTINGS)[number][0];

const int = (name: string, min: number, max: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int(`must be an integer`)
    .min(min, `must be between ${min} and ${max}`)
    .max(max, `must be between ${min} and ${max}`)
    .describe(name);

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((value) => ['true', '1', 'yes'].includes(value));

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol.replace(':', ''));
      } catch {
        return false;
      }
    },
    { message: `must be a URL with scheme ${protocols.join(', ')}` },
  );

/** A comma-separated list (empty when unset) whose items all pass `item`. */
const list = (item: z.ZodType<string>, message: string) =>
  z
    .string()
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean),
    )
    .refine((values) => values.every((v) => item.safeParse(v).success), { message });

/** A device label, as the hub's model requirements name them (e.g. camera:ip67). */
export const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/=-]{0,127}$/;

const apiListen = z.string().refine((value) => parseApiListen(value) !== undefined, {
  message: 'must be HOST:PORT, unix:/path or off',
});

const schema = z.object({
  SENTINEL_DEVICE_ID: z
    .string({ message: 'is required' })
    .regex(new RegExp(ID_PATTERN), `must match ${ID_PATTERN}`),
  SENTINEL_MQTT_URL: list(
    url(['mqtt', 'mqtts', 'tcp', 'tls', 'ws', 'wss']),
    'must be a URL with scheme mqtt, mqtts, tcp, tls, ws or wss (several: comma-separated)',
  )
    .refine((urls) => urls.length > 0, { message: 'is required' })
    .refine((urls) => new Set(urls.map((u) => u.split(':')[0].toLowerCase())).size <= 1, {
      message: 'all URLs of the list must have the same scheme',
    }),
  SENTINEL_MQTT_USERNAME: z.string().min(1).optional(),
  SENTINEL_MQTT_PASSWORD: z.string().min(1).optional(),
  SENTINEL_HUB_URL: url(['http', 'https']).optional(),
  SENTINEL_CREDENTIAL_ORIGINS: list(
    url(['http', 'https']),
    'must be http(s) URLs, comma-separated',
  ),
  SENTINEL_GROUP: z.string().regex(new RegExp(ID_PATTERN), `must match ${ID_PATTERN}`).optional(),
  SENTINEL_TLS_CA_FILE: z.string().min(1).optional(),
  SENTINEL_TLS_CERT_FILE: z.string().min(1).optional(),
  SENTINEL_TLS_KEY_FILE: z.string().min(1).optional(),
  SENTINEL_DATA_DIR: z.string().min(1),
  SENTINEL_TRUSTED_KEYS: z.string().optional(),
  SENTINEL_REQUIRE_SIGNED: bool,
  SENTINEL_TELEMETRY_INTERVAL_S: z.coerce
    .number({ message: 'must be a number' })
    .positive('must be > 0')
    .max(3600, 'must be at most 3600'),
  SENTINEL_SIMULATE_FPS: z.coerce
    .number({ message: 'must be a number' })
    .min(0, 'must be >= 0')
    .max(1000, 'must be at most 1000'),
  SENTINEL_API: apiListen,
  SENTINEL_API_HOSTS: list(
    z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i),
    'must be host names, comma-separated',
  ),
  SENTINEL_HEALTH_LATENCY_MS: int('ms', 1, 600_000),
  SENTINEL_HEALTH_RUNS: int('runs', 1, 100),
  SENTINEL_MAX_INPUT_BYTES: int('bytes', 1, Number.MAX_SAFE_INTEGER),
  SENTINEL_ERROR_BURST: int('errors', 0, 1_000_000),
  SENTINEL_ERROR_BURST_WINDOW_S: int('seconds', 1, 86_400),
  SENTINEL_DOWNLOAD_RETRIES: int('retries', 0, 100),
  SENTINEL_INTRA_OP_THREADS: int('threads', 1, 256),
  SENTINEL_STATE_COALESCE_MS: int('ms', 0, 10_000),
  SENTINEL_LABELS: list(
    z.string().regex(LABEL_PATTERN),
    'must be labels (letters, digits and . _ : / = -, at most 128 characters), comma-separated',
  ).refine((labels) => labels.length <= 64, { message: 'must be at most 64 labels' }),
  SENTINEL_MEMORY_MB: int('MiB', 1, 1_000_000_000).optional(),
  SENTINEL_LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']),
  SENTINEL_ORT_LOG_LEVEL: z.enum(ORT_LOG_LEVELS),
});

export type ApiListen =
  { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string } | { kind: 'off' };

export interface AgentConfig {
  deviceId: string;
  /** The first broker of mqttUrls. */
  mqttUrl: string;
  /** The brokers to try in turn (hubs of a cluster); one for a single hub. */
  mqttUrls: string[];
  mqttUsername: string;
  mqttPassword?: string;
  hubUrl?: string;
  /** Origins besides hubUrl's that receive the device credential with downloads. */
  credentialOrigins: string[];
  group?: string;
  /** CAs to trust and a client certificate, for mqtts, wss and https; undefined: system defaults. */
  tls?: ClientTls;
  dataDir: string;
  trustedKeys: TrustedKey[];
  requireSigned: boolean;
  telemetryIntervalS: number;
  simulateFps: number;
  api: ApiListen;
  /** Host names the local API answers besides localhost and IP literals. */
  apiHosts: string[];
  health: { latencyBudgetMs: number; runs: number; maxInputBytes: number };
  errorBurst: { errors: number; windowS: number };
  downloadRetries: number;
  intraOpThreads: number;
  /** State changes within this many ms go out as one report (0: every change at once). */
  stateCoalesceMs: number;
  /** Reported in the device state's capabilities. */
  labels: string[];
  /** Memory reported to the hub (MiB); undefined: the machine's total. */
  memoryMb?: number;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  ortLogLevel: OrtLogLevel;
}

/** A configuration that cannot run; the message is one line naming the setting. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function parseApiListen(value: string): ApiListen | undefined {
  if (value === 'off') return { kind: 'off' };
  if (value.startsWith('unix:')) {
    const path = value.slice('unix:'.length);
    return path ? { kind: 'unix', path } : undefined;
  }
  const match = /^(.+):(\d{1,5})$/.exec(value);
  if (!match) return undefined;
  const port = Number(match[2]);
  return port <= 65535 ? { kind: 'tcp', host: match[1]!.replace(/^\[|\]$/g, ''), port } : undefined;
}

/** Reads a YAML or JSON file of `file key: value` pairs (see SETTINGS). */
export function readConfigFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text); // YAML is a superset of JSON
  } catch (error) {
    throw new ConfigError(
      `config file ${path} is not YAML/JSON: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a mapping of settings`);
  }
  const byKey = new Map<string, EnvName>(SETTINGS.map(([env, key]) => [key, env]));
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const env = byKey.get(key);
    if (!env) throw new ConfigError(`config file ${path}: unknown setting "${key}"`);
    if (value === null || value === undefined) continue;
    if (typeof value === 'object') {
      throw new ConfigError(`config file ${path}: "${key}" must be a single value`);
    }
    values[env] = String(value);
  }
  return values;
}

const SECRETS: ReadonlySet<string> = new Set(['SENTINEL_MQTT_PASSWORD']);

/** Validates the settings (file values under the environment's); throws ConfigError. */
export function loadAgentConfig(
  env: Record<string, string | undefined> = process.env,
  configFile?: string,
): AgentConfig {
  const fromFile = configFile ? readConfigFile(configFile) : {};
  const raw: Record<string, string> = {};
  for (const [name, , fallback] of SETTINGS) {
    const value = env[name] !== undefined && env[name] !== '' ? env[name] : fromFile[name];
    if (value !== undefined) raw[name] = value;
    else if (fallback !== undefined) raw[name] = fallback;
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0]);
    const shown =
      SECRETS.has(name) || raw[name] === undefined ? '' : ` (got ${JSON.stringify(raw[name])})`;
    throw new ConfigError(`${name} ${issue.message}${shown}`);
  }
  const c = result.data;
  let trustedKeys: TrustedKey[];
  try {
    trustedKeys = parseTrustedKeys(c.SENTINEL_TRUSTED_KEYS, 'SENTINEL_TRUSTED_KEYS');
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (c.SENTINEL_REQUIRE_SIGNED && trustedKeys.length === 0) {
    throw new ConfigError('SENTINEL_REQUIRE_SIGNED=true needs SENTINEL_TRUSTED_KEYS');
  }
  let tls: ClientTls | undefined;
  try {
    tls = loadClientTls({
      caFile: c.SENTINEL_TLS_CA_FILE,
      certFile: c.SENTINEL_TLS_CERT_FILE,
      keyFile: c.SENTINEL_TLS_KEY_FILE,
    });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (!c.SENTINEL_GROUP && !c.SENTINEL_HUB_URL) {
    throw new ConfigError('set SENTINEL_HUB_URL (to look up the device group) or SENTINEL_GROUP');
  }
  return {
    deviceId: c.SENTINEL_DEVICE_ID,
    mqttUrl: c.SENTINEL_MQTT_URL[0],
    mqttUrls: c.SENTINEL_MQTT_URL,
    mqttUsername: c.SENTINEL_MQTT_USERNAME ?? c.SENTINEL_DEVICE_ID,
    mqttPassword: c.SENTINEL_MQTT_PASSWORD,
    hubUrl: c.SENTINEL_HUB_URL?.replace(/\/+$/, ''),
    credentialOrigins: c.SENTINEL_CREDENTIAL_ORIGINS.map((value) => new URL(value).origin),
    group: c.SENTINEL_GROUP,
    tls,
    dataDir: resolve(c.SENTINEL_DATA_DIR),
    trustedKeys,
    requireSigned: c.SENTINEL_REQUIRE_SIGNED,
    telemetryIntervalS: c.SENTINEL_TELEMETRY_INTERVAL_S,
    simulateFps: c.SENTINEL_SIMULATE_FPS,
    api: parseApiListen(c.SENTINEL_API)!,
    apiHosts: c.SENTINEL_API_HOSTS.map((host) => host.toLowerCase()),
    health: {
      latencyBudgetMs: c.SENTINEL_HEALTH_LATENCY_MS,
      runs: c.SENTINEL_HEALTH_RUNS,
      maxInputBytes: c.SENTINEL_MAX_INPUT_BYTES,
    },
    errorBurst: { errors: c.SENTINEL_ERROR_BURST, windowS: c.SENTINEL_ERROR_BURST_WINDOW_S },
    downloadRetries: c.SENTINEL_DOWNLOAD_RETRIES,
    intraOpThreads: c.SENTINEL_INTRA_OP_THREADS,
    stateCoalesceMs: c.SENTINEL_STATE_COALESCE_MS,
    labels: [...new Set(c.SENTINEL_LABELS)],
    memoryMb: c.SENTINEL_MEMORY_MB,
    logLevel: c.SENTINEL_LOG_LEVEL,
    ortLogLevel: c.SENTINEL_ORT_LOG_LEVEL,
  };
}
