// The agent's settings table and the help text made from it; config.ts validates them.

/**
 * Every setting of the agent, in one table: the environment variable, the key in a `--config`
 * file (YAML or JSON), the default and the line `sentinel-agent --help` prints. The environment
 * wins over the file.
 */
export const SETTINGS = [
  [
    'SENTINEL_DEVICE_ID',
    'device_id',
    undefined,
    'Device id (= MQTT client id and username). Required.',
  ],
  [
    'SENTINEL_MQTT_URL',
    'mqtt_url',
    'mqtt://127.0.0.1:1883',
    'Broker URL: mqtt://, mqtts://, ws:// or wss://; several, comma-separated (hubs of a cluster): reconnects go to the next one.',
  ],
  ['SENTINEL_MQTT_USERNAME', 'mqtt_username', undefined, 'MQTT username (default: the device id).'],
  [
    'SENTINEL_MQTT_PASSWORD',
    'mqtt_password',
    undefined,
    'Device secret from POST /api/v1/devices; also used for downloads.',
  ],
  [
    'SENTINEL_HUB_URL',
    'hub_url',
    undefined,
    'Hub base URL, to look up the device group (GET /api/v1/devices/me).',
  ],
  [
    'SENTINEL_CREDENTIAL_ORIGINS',
    'credential_origins',
    undefined,
    "Other origins (comma-separated scheme://host:port) that may receive the device secret with artifact downloads; SENTINEL_HUB_URL's always may, any other gets none.",
  ],
  ['SENTINEL_GROUP', 'group', undefined, 'Device group; when set, no lookup at the hub.'],
  [
    'SENTINEL_TLS_CA_FILE',
    'tls_ca_file',
    undefined,
    "PEM CA(s) trusted for the hub's certificate (mqtts, wss, https), besides the system's.",
  ],
  [
    'SENTINEL_TLS_CERT_FILE',
    'tls_cert_file',
    undefined,
    'PEM client certificate (CN = device id) for mTLS; the secret is then optional.',
  ],
  ['SENTINEL_TLS_KEY_FILE', 'tls_key_file', undefined, 'PEM key of SENTINEL_TLS_CERT_FILE.'],
  [
    'SENTINEL_DATA_DIR',
    'data_dir',
    './sentinel-agent-data',
    'Model cache and slot state. The only folder the agent writes.',
  ],
  [
    'SENTINEL_TRUSTED_KEYS',
    'trusted_keys',
    undefined,
    'PEM public keys (or a file of them) that model signatures must verify with.',
  ],
  [
    'SENTINEL_REQUIRE_SIGNED',
    'require_signed',
    'false',
    'Refuse models without a valid signature (true|false).',
  ],
  ['SENTINEL_TELEMETRY_INTERVAL_S', 'telemetry_interval_s', '10', 'Seconds per telemetry window.'],
  [
    'SENTINEL_SIMULATE_FPS',
    'simulate_fps',
    '0',
    'Run synthetic frames at this rate through the active model (0 = off).',
  ],
  [
    'SENTINEL_API',
    'api',
    '127.0.0.1:8071',
    'Local inference API: HOST:PORT (port 0 = any free one) or unix:/path/to.sock; "off" disables it.',
  ],
  [
    'SENTINEL_API_HOSTS',
    'api_hosts',
    undefined,
    'Host names (comma-separated) the local API answers besides localhost and IP addresses.',
  ],
  [
    'SENTINEL_HEALTH_LATENCY_MS',
    'health_latency_ms',
    '1000',
    'Health check: slowest allowed warm-up inference.',
  ],
  ['SENTINEL_HEALTH_RUNS', 'health_runs', '3', 'Health check: warm-up inferences.'],
  [
    'SENTINEL_MAX_INPUT_BYTES',
    'max_input_bytes',
    String(64 * 1024 * 1024),
    "Largest input (bytes, all of a model's inputs) the agent allocates for warm-up and simulated frames; a model declaring more is refused (too_large).",
  ],
  [
    'SENTINEL_ERROR_BURST',
    'error_burst',
    '5',
    'Inference errors within the burst window after a swap that swap back (0 = never).',
  ],
  [
    'SENTINEL_ERROR_BURST_WINDOW_S',
    'error_burst_window_s',
    '60',
    'Seconds after a swap during which errors count as a burst.',
  ],
  [
    'SENTINEL_DOWNLOAD_RETRIES',
    'download_retries',
    '5',
    'Retries of a failed download (exponential backoff with jitter).',
  ],
  [
    'SENTINEL_INTRA_OP_THREADS',
    'intra_op_threads',
    '1',
    'onnxruntime intra-op threads per session.',
  ],
  [
    'SENTINEL_STATE_COALESCE_MS',
    'state_coalesce_ms',
    '1000',
    'A downloading or verifying phase is reported only once it has lasted this many ms and nothing else was reported meanwhile (a quick update takes 3 reports instead of 5); 0 = report every phase.',
  ],
  [
    'SENTINEL_LABELS',
    'labels',
    undefined,
    'Labels of this device (comma-separated, e.g. camera:ip67,site:berlin), reported to the hub; a model may require some.',
  ],
  [
    'SENTINEL_MEMORY_MB',
    'memory_mb',
    undefined,
    "Memory (MiB) reported to the hub for a model's minimum; default: the machine's total.",
  ],
  ['SENTINEL_LOG_LEVEL', 'log_level', 'info', 'error | warn | info | debug.'],
  [
    'SENTINEL_ORT_LOG_LEVEL',
    'ort_log_level',
    'fatal',
    "onnxruntime's own log (plain text on stderr, not JSON): verbose | info | warning | error | fatal.",
  ],
] as const satisfies readonly (readonly [string, string, string | undefined, string])[];

/** The settings section of `sentinel-agent --help`. */
export function settingsHelp(): string {
  const width = Math.max(...SETTINGS.map(([env]) => env.length));
  return SETTINGS.map(
    ([env, key, fallback, text]) =>
      `  ${env.padEnd(width)}  ${text}${fallback !== undefined ? ` Default: ${fallback}.` : ''} (file: ${key})`,
  ).join('\n');
}
