import type { TelemetryPoint } from '../../src/telemetry/telemetry-store.js';

const HOUR_MS = 3_600_000;

/**
 * The time the telemetry fixtures count from: the start of the hour before the current one, so
 * that every fixture point (T0 up to a few minutes after it) is recent, inside any retention
 * period a store under test has, and never in the future, whatever day the suite runs on. A
 * fixed date here made the suite fail once it fell out of the stores' 7-day retention (issue 18).
 * Whole hours keep the windows aligned the way a fixed date did.
 */
export const T0 = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - HOUR_MS;

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
