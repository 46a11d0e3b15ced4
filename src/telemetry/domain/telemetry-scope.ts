/**
 * Which telemetry a device may send. A device speaks only for itself (its topic, checked on ingest),
 * and a window it tags with a deployment or a model is counted by the rules module in that
 * deployment's verdict: so a device may name only a deployment that targets its own group, and only
 * the model it last reported in the slot the window names. A shadow block speaks for the same
 * deployment as its window, and for the model the device last reported in its standby slot (the
 * other one; either slot when the window names none). A window of a named model (`serve_as`,
 * docs/protocol.md 6.6) is checked against that model's slots (`models.{name}.slots` of the report)
 * instead of the top-level ones. Pure.
 */
export interface DeviceScope {
  /** The device's group as the hub knows it (null: in no group). */
  group: string | null;
  /** Model id per slot from the device's last state report; undefined until it has reported slots. */
  slots?: { blue: string | null; green: string | null };
  /**
   * Model id per slot of each named model from the same report (`models`); undefined until the
   * device has reported named models at all.
   */
  models?: Record<string, { blue: string | null; green: string | null }>;
}

export interface ScopedWindow {
  device: string;
  deployment: string | null;
  modelId: string | null;
  slot: 'blue' | 'green' | null;
  /** The named model the window is about; absent or `default`: the report's top-level slots. */
  serveAs?: string;
  /** The window's shadow block: the deployment it names and the candidate model. */
  shadow?: { deployment: string | null; modelId: string };
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
  const slots = slotsOf(device, window.serveAs);
  if (slots === null) return 'not_serving';
  if (window.modelId !== null && window.slot !== null && slots) {
    if (slots[window.slot] !== window.modelId) return 'not_serving';
  }
  if (window.shadow) return shadowProblem(window, window.shadow, slots);
  return null;
}

/**
 * The slots a window is judged on: the top level's for `default`, the named model's otherwise;
 * undefined when not reported yet (trusted), null for a name the device reported it does not serve.
 */
function slotsOf(device: DeviceScope, serveAs: string | undefined): DeviceScope['slots'] | null {
  if (serveAs === undefined || serveAs === 'default') return device.slots;
  if (!device.models) return undefined;
  return Object.hasOwn(device.models, serveAs) ? device.models[serveAs] : null;
}

/** The shadow block's own checks, once its window passed: refused the same way. */
function shadowProblem(
  window: ScopedWindow,
  shadow: NonNullable<ScopedWindow['shadow']>,
  slots: DeviceScope['slots'],
): ScopeProblem | null {
  if (shadow.deployment !== window.deployment) return 'foreign_deployment';
  if (!slots) return null;
  const standby =
    window.slot === null
      ? [slots.blue, slots.green]
      : [slots[window.slot === 'blue' ? 'green' : 'blue']];
  return standby.includes(shadow.modelId) ? null : 'not_serving';
}

/** Model id per slot of each named model out of a state report's `models` (undefined: none reported). */
export function namedSlotModels(models: unknown): DeviceScope['models'] {
  if (!models || typeof models !== 'object') return undefined;
  const out: NonNullable<DeviceScope['models']> = {};
  for (const [name, model] of Object.entries(models as Record<string, unknown>)) {
    const slots = slotModels((model as { slots?: unknown } | null)?.slots);
    out[name] = slots ?? { blue: null, green: null };
  }
  return out;
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
