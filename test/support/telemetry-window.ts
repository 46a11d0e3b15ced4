/**
 * A telemetry window of `deviceId` (docs/protocol.md 4.3), timed `seconds` after `start` (ms), as
 * the JSON a device publishes: steady figures (10 s, 100 frames at 10 FPS, no errors), `fields`
 * added or replacing them (the model, the slot, the deployment, a shadow block...).
 */
export function telemetryWindow(
  deviceId: string,
  start: number,
  seconds: number,
  fields: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    device_id: deviceId,
    ts: new Date(start + seconds * 1000).toISOString(),
    window_s: 10,
    frames: 100,
    fps: 10,
    latency_ms: { p50: 6, p95: 9, max: 12 },
    memory_mb: 100,
    errors: 0,
    ...fields,
  });
}
