// What bench/capacity.ts (the parent) and bench/capacity-clients.ts (the device process) share:
// the IPC messages, and the device messages the clients publish (valid by the protocol's schemas).
import type { DeviceState, Telemetry } from '@sentinel/broker';
import type { DeviceLogin } from './fanout-ipc.js';

export type { DeviceLogin };

/** The tags a device's telemetry windows carry (what makes an InfluxDB series, with the device). */
export interface WindowTags {
  model_id: string;
  model_version: string;
  slot: 'blue' | 'green';
  /** null: the window names no deployment (a device outside a rollout). */
  deployment_id: string | null;
}

export type CapacityRequest =
  | {
      /** Connects these devices (added to those already connected) the way an agent does. */
      type: 'connect';
      url: string;
      group: string;
      devices: DeviceLogin[];
      /** Clients between CONNECT and the retained state report at any one time. */
      inFlight: number;
      clientTimeoutMs: number;
    }
  | {
      /** Every connected device publishes `perDevice` messages, `perSecond` in all across them. */
      type: 'publish';
      kind: 'state' | 'telemetry';
      perDevice: number;
      perSecond: number;
      tags: WindowTags;
    }
  /** Counts group desired states whose payload contains `needle`, one per device. */
  | { type: 'arm'; needle: string }
  | { type: 'received'; timeoutMs: number }
  | { type: 'close' };

export type CapacityReply =
  | { type: 'connected'; connected: number; failed: number; errors: [string, number][]; ms: number }
  | { type: 'published'; sent: number; ms: number }
  | { type: 'armed' }
  | { type: 'received'; expected: number; received: number; timedOut: boolean }
  | { type: 'closed' }
  | { type: 'failed'; error: string };

const SHA256 = 'c'.repeat(64);

/** The state an agent serving `tags`' model in its slot reports (nothing deploying). */
export function statePayload(deviceId: string, online: boolean, n: number, tags: WindowTags) {
  const state: DeviceState = {
    device_id: deviceId,
    online,
    agent_version: '0.1.0',
    // A new time stamp per report, as an agent's: no two reports are the same message.
    ts: new Date(Date.now() + n).toISOString(),
    active_slot: tags.slot,
    slots: {
      blue:
        tags.slot === 'blue'
          ? { model_id: tags.model_id, version: tags.model_version, sha256: SHA256, loaded: true }
          : null,
      green:
        tags.slot === 'green'
          ? { model_id: tags.model_id, version: tags.model_version, sha256: SHA256, loaded: true }
          : null,
    },
    deployment: null,
    errors: [],
    capabilities: {
      ort_version: '1.30.0',
      max_opset: 26,
      execution_providers: ['cpu'],
      arch: 'x64',
      memory_mb: 4096,
      labels: [],
    },
  };
  return JSON.stringify(state);
}

/** One 10 s telemetry window as an agent sends it. */
export function windowPayload(deviceId: string, n: number, tags: WindowTags): string {
  const window: Telemetry = {
    device_id: deviceId,
    ts: new Date().toISOString(),
    window_s: 10,
    frames: 298 + (n % 5),
    fps: 29.8,
    latency_ms: { p50: 8.4 + (n % 7), p95: 12.9 + (n % 11), max: 31.2 },
    memory_mb: 212.5,
    errors: 0,
    model_id: tags.model_id,
    model_version: tags.model_version,
    slot: tags.slot,
    deployment_id: tags.deployment_id,
  };
  return JSON.stringify(window);
}
