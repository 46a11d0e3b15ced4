/**
 * Which telemetry a device may send. A device speaks only for itself (its topic, checked on ingest),
 * and a window it tags with a deployment or a model is counted by the rules module in that
 * deployment's verdict: so a device may name only a deployment that targets its own group, and only
 * the model it last reported in the slot the window names. Pure.
 */
export interface DeviceScope {
  /** The device's group as the hub knows it (null: in no group). */
  group: string | null;
  /** Model id per slot from the device's last state report; undefined until it has reported slots. */
  slots?: { blue: string | null; green: string | null };
}

export interface ScopedWindow {
  device: string;
  deployment: string | null;
  modelId: string | null;
  slot: 'blue' | 'green' | null;
}

export type ScopeProblem = 'unknown_device' | 'foreign_deployment' | 'not_serving';

/**
 * @param deploymentGroups the target groups of the deployment the window names (an empty set when no
 *   such deployment exists).
 */
export function scopeProblem(
  window: ScopedWindow,
  device: DeviceScope | undefined,
  deploymentGroups: ReadonlySet<string> | undefined,
): ScopeProblem | null {
  if (!device) return 'unknown_device';
  if (window.deployment !== null) {
    if (device.group === null || !deploymentGroups?.has(device.group)) return 'foreign_deployment';
  }
  if (window.modelId !== null && window.slot !== null && device.slots) {
    if (device.slots[window.slot] !== window.modelId) return 'not_serving';
  }
  return null;
}

/** Model id per slot out of a state report's `slots` (as stored or as received). */
export function slotModels(slots: unknown): DeviceScope['slots'] {
  if (!slots || typeof slots !== 'object') return undefined;
  const read = (slot: unknown) =>
    slot &&
    typeof slot === 'object' &&
    typeof (slot as { model_id?: unknown }).model_id === 'string'
      ? (slot as { model_id: string }).model_id
      : null;
  const { blue, green } = slots as { blue?: unknown; green?: unknown };
  return { blue: read(blue), green: read(green) };
}
