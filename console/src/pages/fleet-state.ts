// What a device last reported (docs/protocol/device-state.json), as the fleet table shows it.
import type { DeviceDto } from '../api.js';

interface Slot {
  model_id: string;
  version: string;
  loaded: boolean;
}

export interface DeviceSummary {
  activeSlot: string | null;
  active: Slot | null;
  standby: Slot | null;
  phase: string | null;
  failure: string | null;
}

export function summarize(device: DeviceDto): DeviceSummary {
  const r = (device.reported ?? {}) as {
    active_slot?: 'blue' | 'green' | null;
    slots?: { blue?: Slot | null; green?: Slot | null };
    deployment?: { phase?: string; reason?: string; detail?: string } | null;
  };
  const activeSlot = r.active_slot ?? null;
  const other = activeSlot === 'blue' ? 'green' : activeSlot === 'green' ? 'blue' : null;
  const failed = r.deployment && ['failed', 'rolled_back'].includes(r.deployment.phase ?? '');
  return {
    activeSlot,
    active: activeSlot ? (r.slots?.[activeSlot] ?? null) : null,
    standby: other ? (r.slots?.[other] ?? null) : null,
    phase: r.deployment?.phase ?? null,
    failure: failed
      ? `${r.deployment!.reason ?? r.deployment!.phase}${r.deployment!.detail ? `: ${r.deployment!.detail}` : ''}`
      : null,
  };
}

/** The lines an agent needs, to copy once its credential is shown. */
export function agentEnv(id: string, password: string, origin: string): string {
  const host = new URL(origin).hostname;
  return [
    `SENTINEL_DEVICE_ID=${id}`,
    `SENTINEL_MQTT_PASSWORD=${password}`,
    `SENTINEL_MQTT_URL=mqtt://${host}:1883`,
    `SENTINEL_HUB_URL=${origin}`,
  ].join('\n');
}
