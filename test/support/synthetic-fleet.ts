/**
 * Seeded synthetic fleets for the verdict's property tests and bench/verdict's false-rollback
 * figures: devices with their own level (cameras differ), windows with noise around it. Deterministic
 * per seed (@sentinel/broker/testing), so a failing seed can be replayed.
 */
import { normal } from '@sentinel/broker/testing';
import { DeviceAccumulator, byVersion } from '../../src/telemetry/domain/aggregate.js';
import type { VersionAggregate } from '../../src/telemetry/telemetry-store.js';

export interface FleetShape {
  /** Mean FPS, p95 latency (ms) and memory (MB) of the fleet on the baseline version. */
  fps: number;
  p95: number;
  memory: number;
  /** Device-to-device spread (standard deviation) as a share of the mean, e.g. 0.05. */
  deviceSpread: number;
  /** Window-to-window noise (standard deviation) as a share of the mean, e.g. 0.05. */
  windowNoise: number;
}

/**
 * Cameras of one kind running one model: devices within 5 % of each other (scenes differ), windows
 * within 6 %. With a wider device spread, comparing a 5-device cohort with other devices loses power
 * (bench/verdict prints the rates by spread).
 */
export const CAMERA_FLEET: FleetShape = {
  fps: 20,
  p95: 40,
  memory: 300,
  deviceSpread: 0.05,
  windowNoise: 0.06,
};

export interface Device {
  id: string;
  /** The device's own level, as a factor of the fleet mean. */
  level: number;
}

export function devices(
  random: () => number,
  n: number,
  shape: FleetShape,
  prefix = 'cam',
): Device[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${i}`,
    level: Math.max(0.2, 1 + shape.deviceSpread * normal(random)),
  }));
}

/**
 * `windows` telemetry windows of each device on `version`; `fpsFactor` and `p95Factor` scale the
 * version's true figures (0.8: a 20 % FPS drop).
 */
export function windowsOf(
  random: () => number,
  fleet: readonly Device[],
  version: string,
  windows: number,
  shape: FleetShape,
  effect: { fpsFactor?: number; p95Factor?: number } = {},
): VersionAggregate | null {
  const rows = fleet.map((device) => {
    const acc = new DeviceAccumulator(device.id, version);
    for (let w = 0; w < windows; w++) {
      const noise = () => Math.max(0.01, 1 + shape.windowNoise * normal(random));
      const fps = shape.fps * device.level * (effect.fpsFactor ?? 1) * noise();
      acc.add({
        fps,
        latency_p95: (shape.p95 / device.level) * (effect.p95Factor ?? 1) * noise(),
        memory_mb: shape.memory * noise(),
        frames: Math.round(fps * 10),
        errors: 0,
      });
    }
    return acc.row();
  });
  return byVersion(rows.filter((r) => r.samples > 0))[0] ?? null;
}
