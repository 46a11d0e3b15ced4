// What bench/ingest.ts (the parent) and bench/ingest-clients.ts (device processes) share: the IPC
// messages, and the one definition of a telemetry sample, so that the devices' MQTT payloads and
// the raw reference's InfluxDB points carry the same tags and field values.

export interface DeviceLogin {
  id: string;
  password: string;
}

export type ParentMessage =
  | {
      type: 'connect';
      url: string;
      devices: DeviceLogin[];
      /** Clients between CONNECT and CONNACK at any one time. */
      concurrency: number;
      clientTimeoutMs: number;
    }
  /** Messages per second across this process's devices from now on; 0 stops publishing. */
  | { type: 'rate'; perSecond: number }
  | { type: 'count' }
  | { type: 'close' };

export interface PublishCounts {
  /** Handed to a connected client's socket (QoS 0: nothing more is known). */
  published: number;
  /** Due but not sent because that device's socket still held unsent bytes (broker backpressure). */
  heldBack: number;
  /** Due but skipped because this process's timer ran late (the load generator's own limit). */
  behind: number;
  /** Due but not sent because that device's connection had closed. */
  offline: number;
  /** Connections that closed after CONNACK. */
  closed: number;
}

export type ChildMessage =
  | { type: 'ready'; connected: number; failed: number; errors: [string, number][]; ms: number }
  | { type: 'rate' }
  | ({ type: 'count' } & PublishCounts)
  | { type: 'closed' }
  | { type: 'failed'; error: string };

export type ChildMessageType = ChildMessage['type'];

/** Where every simulated device sits: its group (created with this environment). */
export const SAMPLE_PLACEMENT = { group: 'bench-ingest', environment: 'production' } as const;

/** What every simulated device reports about its model (constant: one deployment, one version). */
export const SAMPLE_MODEL = {
  deployment_id: 'bench-ingest',
  model_id: '6f1c2a4e-3b7d-4e59-9a51-0c8d2e7f4b13',
  model_version: '1.0.0',
  slot: 'blue',
} as const;

/** The numbers of one telemetry window; a function of a per-device counter, so both sides agree. */
export function sampleValues(n: number) {
  return {
    window_s: 1,
    frames: 30 + (n % 5),
    fps: 25 + (n % 10) / 2,
    p50: 12.5 + (n % 7),
    p95: 18.25 + (n % 11),
    max: 31 + (n % 13),
    memory_mb: 412.5 + (n % 3),
    errors: n % 17 === 0 ? 1 : 0,
  };
}

/**
 * A valid `telemetry` message (broker/src/messages.ts TelemetrySchema) as a device's agent would
 * send it: JSON text, `ts` in RFC 3339 with milliseconds.
 */
export function telemetryPayload(deviceId: string, tsMs: number, n: number): string {
  const v = sampleValues(n);
  return (
    `{"device_id":"${deviceId}","ts":"${new Date(tsMs).toISOString()}","window_s":${v.window_s},` +
    `"frames":${v.frames},"fps":${v.fps},"latency_ms":{"p50":${v.p50},"p95":${v.p95},"max":${v.max}},` +
    `"memory_mb":${v.memory_mb},"errors":${v.errors},"model_id":"${SAMPLE_MODEL.model_id}",` +
    `"model_version":"${SAMPLE_MODEL.model_version}","slot":"${SAMPLE_MODEL.slot}",` +
    `"deployment_id":"${SAMPLE_MODEL.deployment_id}"}`
  );
}
