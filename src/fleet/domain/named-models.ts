/** One slot of a named model, as the device reported it. */
export interface NamedSlotView {
  model_id: string;
  version: string;
  loaded: boolean;
}

/** A named model a device serves besides `default` (docs/protocol.md 6.6), from its last report. */
export interface NamedModelView {
  name: string;
  active_slot: 'blue' | 'green' | null;
  slots: { blue: NamedSlotView | null; green: NamedSlotView | null };
  /** The progress of the deployment it follows, as reported (null: none). */
  deployment: { deployment_id: string | null; phase: string; reason: string | null } | null;
}

const slotOf = (value: unknown): NamedSlotView | null => {
  if (!value || typeof value !== 'object') return null;
  const slot = value as Partial<NamedSlotView>;
  if (typeof slot.model_id !== 'string' || typeof slot.version !== 'string') return null;
  return { model_id: slot.model_id, version: slot.version, loaded: slot.loaded === true };
};

/**
 * The named models of a state report (`models`, by name), in name order; [] for an agent with one
 * model (or none reported). Reads what the device sent, tolerating an older or partial report. Pure.
 */
export function namedModelsOf(reported: unknown): NamedModelView[] {
  const models = (reported as { models?: unknown } | null)?.models;
  if (!models || typeof models !== 'object') return [];
  return Object.entries(models as Record<string, unknown>)
    .filter((entry): entry is [string, Record<string, unknown>] => {
      return entry[1] !== null && typeof entry[1] === 'object';
    })
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, model]) => {
      const slots = (model.slots ?? {}) as { blue?: unknown; green?: unknown };
      const active = model.active_slot;
      const progress = model.deployment as
        { deployment_id?: unknown; phase?: unknown; reason?: unknown } | null | undefined;
      return {
        name,
        active_slot: active === 'blue' || active === 'green' ? active : null,
        slots: { blue: slotOf(slots.blue), green: slotOf(slots.green) },
        deployment:
          progress && typeof progress.phase === 'string'
            ? {
                deployment_id:
                  typeof progress.deployment_id === 'string' ? progress.deployment_id : null,
                phase: progress.phase,
                reason: typeof progress.reason === 'string' ? progress.reason : null,
              }
            : null,
      };
    });
}
