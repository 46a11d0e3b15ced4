import type { ShadowTelemetry, Telemetry } from '@sentinel/broker';
import type { ShadowPoint, TelemetryPoint } from '../telemetry-store.js';

export interface DevicePlacement {
  group: string;
  environment: string;
}

/** A validated telemetry message, tagged with where the device sits. Pure. */
export function toPoint(
  message: Telemetry,
  placement: DevicePlacement | undefined,
): TelemetryPoint {
  const time = new Date(message.ts);
  return {
    time,
    tags: {
      device: message.device_id,
      group: placement?.group ?? 'unknown',
      environment: placement?.environment ?? 'unknown',
      deployment: message.deployment_id ?? 'none',
      model_id: message.model_id ?? 'none',
      model_version: message.model_version ?? 'none',
      slot: message.slot ?? 'none',
    },
    frames: message.frames,
    fps: message.fps,
    latency_p50: message.latency_ms.p50,
    latency_p95: message.latency_ms.p95,
    latency_max: message.latency_ms.max,
    memory_mb: message.memory_mb,
    errors: message.errors,
    window_s: message.window_s,
    ...(message.map !== undefined ? { map: message.map } : {}),
    ...(message.latency_hist !== undefined ? { latency_hist: message.latency_hist } : {}),
    ...(message.shadow !== undefined ? { shadow: toShadowPoint(message.shadow) } : {}),
    ...(message.serve_as !== undefined ? { serve_as: message.serve_as } : {}),
  };
}

function toShadowPoint(shadow: ShadowTelemetry): ShadowPoint {
  return {
    deployment: shadow.deployment_id ?? 'none',
    model_id: shadow.model_id,
    model_version: shadow.model_version,
    comparison: shadow.comparison,
    samples: shadow.samples,
    dropped: shadow.dropped,
    errors: shadow.errors,
    ...(shadow.latency_ms !== undefined
      ? { latency_p50: shadow.latency_ms.p50, latency_p95: shadow.latency_ms.p95 }
      : {}),
    ...(shadow.active_latency_ms !== undefined
      ? {
          active_latency_p50: shadow.active_latency_ms.p50,
          active_latency_p95: shadow.active_latency_ms.p95,
        }
      : {}),
    ...(shadow.agreement !== undefined ? { agreement: shadow.agreement } : {}),
  };
}
