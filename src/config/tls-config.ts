import { z } from 'zod';
import { readTlsFiles, type TlsFilePaths } from '@sentinel/broker';

/**
 * How device client certificates (mTLS) are used, on the MQTT TLS listeners and HTTPS:
 * - `off`: none are asked for; devices log in with their secret.
 * - `optional`: a device may log in with a certificate signed by TLS_CLIENT_CA_FILE (its CN is the
 *   device id, no secret needed) or with its secret.
 * - `required`: devices must present such a certificate; secrets are refused. Observers and API
 *   tokens are not devices and are not affected.
 */
export const CLIENT_AUTH_MODES = ['off', 'optional', 'required'] as const;
export type ClientAuthMode = (typeof CLIENT_AUTH_MODES)[number];

const optionalPath = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

const tlsPort = (fallback: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(fallback);

/** The TLS variables of the hub's configuration (merged into configSchema). */
export const tlsSettings = {
  /** PEM certificate (chain) of the hub: HTTPS on PORT, mqtts and wss. */
  TLS_CERT_FILE: optionalPath,
  TLS_KEY_FILE: optionalPath,
  /** PEM CA (bundle) that signs device certificates. */
  TLS_CLIENT_CA_FILE: optionalPath,
  /** Default: `optional` with TLS_CLIENT_CA_FILE, else `off`. */
  TLS_CLIENT_AUTH: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z
      .enum(CLIENT_AUTH_MODES, { message: `must be one of ${CLIENT_AUTH_MODES.join(', ')}` })
      .optional(),
  ),
  MQTT_TLS_PORT: tlsPort(8883),
  MQTT_WSS_PORT: tlsPort(8084),
  /** false: no plain MQTT listeners (MQTT_PORT, MQTT_WS_PORT), TLS only. */
  MQTT_PLAINTEXT: z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
    .default('true')
    .transform((value) => ['true', '1', 'yes'].includes(value)),
};

interface TlsValues {
  TLS_CERT_FILE?: string;
  TLS_KEY_FILE?: string;
  TLS_CLIENT_CA_FILE?: string;
  TLS_CLIENT_AUTH?: ClientAuthMode;
  MQTT_PLAINTEXT: boolean;
  MQTT_URL?: string;
}

type Issue = { path: string; message: string };

/** Problems with the TLS variables together (pairs that go together, files that must be usable). */
export function tlsProblems(cfg: TlsValues): Issue[] {
  const problems: Issue[] = [];
  if (Boolean(cfg.TLS_CERT_FILE) !== Boolean(cfg.TLS_KEY_FILE)) {
    const missing = cfg.TLS_CERT_FILE ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE';
    const other = cfg.TLS_CERT_FILE ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE';
    problems.push({ path: missing, message: `is required when ${other} is set` });
    return problems;
  }
  if (!cfg.TLS_CERT_FILE) {
    for (const key of ['TLS_CLIENT_CA_FILE', 'TLS_CLIENT_AUTH'] as const)
      if (cfg[key]) problems.push({ path: key, message: 'needs TLS_CERT_FILE and TLS_KEY_FILE' });
    if (!cfg.MQTT_PLAINTEXT && !cfg.MQTT_URL)
      problems.push({
        path: 'MQTT_PLAINTEXT',
        message: 'false needs TLS_CERT_FILE and TLS_KEY_FILE',
      });
    return problems;
  }
  const mode = clientAuthMode(cfg);
  if (mode !== 'off' && !cfg.TLS_CLIENT_CA_FILE)
    problems.push({ path: 'TLS_CLIENT_AUTH', message: `${mode} needs TLS_CLIENT_CA_FILE` });
  try {
    readTlsFiles(tlsFilesOf(cfg)!);
  } catch (error) {
    problems.push({ path: 'TLS_CERT_FILE', message: (error as Error).message });
  }
  return problems;
}

export function clientAuthMode(
  cfg: Pick<TlsValues, 'TLS_CLIENT_AUTH' | 'TLS_CLIENT_CA_FILE'>,
): ClientAuthMode {
  return cfg.TLS_CLIENT_AUTH ?? (cfg.TLS_CLIENT_CA_FILE ? 'optional' : 'off');
}

/** The hub's TLS files, or null when it serves clear text. The client CA only when it is used. */
export function tlsFilesOf(cfg: TlsValues): TlsFilePaths | null {
  if (!cfg.TLS_CERT_FILE || !cfg.TLS_KEY_FILE) return null;
  return {
    certFile: cfg.TLS_CERT_FILE,
    keyFile: cfg.TLS_KEY_FILE,
    ...(clientAuthMode(cfg) !== 'off' && cfg.TLS_CLIENT_CA_FILE
      ? { clientCaFile: cfg.TLS_CLIENT_CA_FILE }
      : {}),
  };
}
