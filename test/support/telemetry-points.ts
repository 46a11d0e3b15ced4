import type { TelemetryPoint } from '../../src/telemetry/telemetry-store.js';

/** The time the telemetry fixtures count from. */
export const T0 = Date.parse('2026-11-29T10:00:00Z');

/** A telemetry point of `device` on `version`, `seconds` after T0, with plain defaults. */
export function telemetryPoint(
  device: string,
  version: string,
  seconds: number,
  fields: Partial<TelemetryPoint> = {},
  deployment = 'dep-1',
): TelemetryPoint {
  return {
    time: new Date(T0 + seconds * 1000),
    tags: {
      device,
      group: 'yard',
      environment: 'production',
      deployment,
      model_id: `id-${version}`,
      model_version: version,
      slot: 'blue',
    },
    frames: 100,
    fps: 10,
    latency_p50: 5,
    latency_p95: 9,
    latency_max: 12,
    memory_mb: 100,
    errors: 0,
    window_s: 10,
    ...fields,
  };
}
