import { resolve } from 'node:path';
import { z } from 'zod';
import { parseTrustedKeys } from '@sentinel/broker/signing';
import { tlsProblems, tlsSettings } from './tls-config.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = (fallback: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(fallback);

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .optional()
    .transform((value) => (value === '' ? undefined : value))
    .refine(
      (value) => {
        if (value === undefined) return true;
        try {
          return protocols.includes(new URL(value).protocol.replace(':', ''));
        } catch {
          return false;
        }
      },
      { message: `must be a URL with scheme ${protocols.join(' or ')}` },
    );

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .default('false')
  .transform((value) => ['true', '1', 'yes'].includes(value));

/** A number of seconds (fractions allowed); 0 turns the limit off. */
const seconds = (fallback: number) =>
  z.coerce
    .number({ message: 'must be a number of seconds' })
    .min(0, 'must be 0 (no limit) or more')
    .max(86_400, 'must be at most 86400')
    .default(fallback);

/** Every environment variable the hub reads (design section 3). Secrets are listed in SECRET_KEYS. */
export const configSchema = z
  .object({
    PORT: port(8070),
    HOST: z.string().min(1).default('0.0.0.0'),
    MQTT_PORT: port(1883),
    MQTT_WS_PORT: port(8083),
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: optionalUrl(['postgres', 'postgresql']),
    DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
    S3_ENDPOINT: optionalUrl(['http', 'https']),
    S3_ACCESS_KEY: optionalText,
    S3_SECRET_KEY: optionalText,
    S3_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
      .default('sentinel-models'),
    S3_REGION: z.string().default('us-east-1'),
    INFLUX_URL: optionalUrl(['http', 'https']),
    INFLUX_DB: z.string().min(1).default('sentinel'),
    INFLUX_USER: optionalText,
    INFLUX_PASSWORD: optionalText,
    REDIS_URL: optionalUrl(['redis', 'rediss']),
    MQTT_URL: optionalUrl(['mqtt', 'mqtts', 'ws', 'wss', 'tcp']),
    MQTT_USERNAME: z.string().default('sentinel-hub'),
    MQTT_PASSWORD: optionalText,
    PUBLIC_URL: optionalUrl(['http', 'https']),
    ADMIN_TOKEN: z
      .string()
      .optional()
      .transform((value) => (value === '' ? undefined : value))
      .refine((value) => value === undefined || value.length >= 16, {
        message: 'must be at least 16 characters',
      }),
    TRUSTED_KEYS: optionalText,
    REQUIRE_SIGNED_MODELS: booleanFlag,
    MAX_MODEL_BYTES: z.coerce
      .number({ message: 'must be a number of bytes' })
      .int('must be an integer')
      .positive('must be positive')
      .default(4 * 1024 ** 3),
    TELEMETRY_BUFFER_POINTS: z.coerce
      .number({ message: 'must be a number' })
      .int('must be an integer')
      .min(100, 'must be at least 100')
      .default(200_000),
    TELEMETRY_RETENTION_DAYS: z.coerce
      .number({ message: 'must be a number of days' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .default(30),
    MQTT_TELEMETRY_RATE: z.coerce
      .number({ message: 'must be a number of messages per second' })
      .min(0, 'must be 0 (no limit) or more')
      .default(5),
    MQTT_TELEMETRY_BURST: z.coerce
      .number({ message: 'must be a number of messages' })
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .default(50),
    RULES_INTERVAL_S: z.coerce
      .number({ message: 'must be a number of seconds' })
      .min(0.1, 'must be at least 0.1')
      .max(3600, 'must be at most 3600')
      .default(10),
    ROLLOUT_INTERVAL_MS: z.coerce
      .number({ message: 'must be a number of milliseconds' })
      .int('must be an integer')
      .min(50, 'must be at least 50')
      .max(600_000, 'must be at most 600000')
      .default(1000),
    HTTP_REQUEST_TIMEOUT_S: seconds(300),
    HTTP_IDLE_TIMEOUT_S: seconds(120),
    LOG_LEVEL: z
      .enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` })
      .default('info'),
    ...tlsSettings,
  })
  .superRefine((cfg, ctx) => {
    for (const { path, message } of tlsProblems(cfg))
      ctx.addIssue({ code: 'custom', path: [path], message });
    if (cfg.S3_ENDPOINT) {
      for (const key of ['S3_ACCESS_KEY', 'S3_SECRET_KEY'] as const) {
        if (!cfg[key])
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'is required when S3_ENDPOINT is set',
          });
      }
    }
    if (cfg.TRUSTED_KEYS) {
      try {
        parseTrustedKeys(cfg.TRUSTED_KEYS);
      } catch (error) {
        const reason = (error as Error).message.replace(/^TRUSTED_KEYS: /, '');
        ctx.addIssue({ code: 'custom', path: ['TRUSTED_KEYS'], message: reason });
      }
    }
    if (cfg.REQUIRE_SIGNED_MODELS && !cfg.TRUSTED_KEYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['REQUIRE_SIGNED_MODELS'],
        message: 'needs TRUSTED_KEYS to be set',
      });
    }
  });

export type AppConfig = z.output<typeof configSchema> & { DATA_DIR: string };

/** Values never to print or log. */
export const SECRET_KEYS = [
  'ADMIN_TOKEN',
  'S3_SECRET_KEY',
  'INFLUX_PASSWORD',
  'DATABASE_URL',
  'REDIS_URL',
  'MQTT_URL',
] as const;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
  }
}

/** Validates the environment; throws ConfigError with one line per bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? 'environment');
      const raw = env[name];
      const shown =
        raw === undefined || (SECRET_KEYS as readonly string[]).includes(name)
          ? ''
          : ` (got "${raw}")`;
      return `${name} ${issue.message}${shown}`;
    });
    throw new ConfigError(problems);
  }
  return { ...parsed.data, DATA_DIR: resolve(parsed.data.DATA_DIR) };
}

export const APP_CONFIG = Symbol('APP_CONFIG');
