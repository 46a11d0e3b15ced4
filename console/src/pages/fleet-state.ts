// What a device last reported (docs/protocol/device-state.json), as the fleet table shows it.
import {
  agentEnvironment,
  defaultMqttUrl,
  formatAgentEnvironment,
} from '../../../src/cli/agent-env.js';
import type { DeviceWithCredentialsDto } from '../../../src/cli/hub-api.generated.js';
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

/**
 * The lines an agent needs, to copy once its credential is shown: the CLI's own (`sentinel device
 * create` prints the same), with the broker guessed from this page's address.
 */
export function agentEnv(device: DeviceWithCredentialsDto, origin: string): string {
  return formatAgentEnvironment(
    agentEnvironment(device, { hubUrl: origin, mqttUrl: defaultMqttUrl(origin) }),
  );
}
