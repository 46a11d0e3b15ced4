/**
 * The agent's decisions, as pure functions: what the desired state asks this device to serve,
 * which single step brings the two slots closer to it, and which phase to report.
 */
import {
  inCohort,
  type DeploymentPhase,
  type DesiredState,
  type FailureReason,
  type ModelRef,
  type Slot,
} from '@sentinel/broker/protocol';

export interface SlotsView {
  active: Slot | null;
  blue: ModelRef | null;
  green: ModelRef | null;
}

/** A model the agent refuses for one deployment, after it failed here or was rolled back here. */
export interface Veto {
  deployment_id: string | null;
  sha256: string;
  reason: FailureReason;
  detail?: string;
}

/** Failures worth retrying when the hub sends the same deployment again (a new seq) or on restart. */
export const TRANSIENT_REASONS: ReadonlySet<FailureReason> = new Set([
  'download_failed',
  'disk_full',
  'timeout',
]);

export interface Target {
  /** The model that must serve, or null for "keep serving whatever is active". */
  serve: ModelRef | null;
  /** The model to hold loaded in the standby slot, ready for a swap without a download. */
  standby: ModelRef | null;
  /** Whether the deployment's new model is meant for this device (canary cohort). */
  inCohort: boolean;
}

/**
 * What a desired state asks of this device. In the cohort (or with no cohort), `activate: "new"`
 * serves the new model and keeps the previous one on standby; `activate: "previous"` (blue/green
 * phase 1, or a rollback) serves the previous one and stages the new one. Outside the cohort the
 * device keeps serving the previous model and downloads nothing.
 */
export function targetOf(desired: DesiredState, deviceId: string): Target {
  const member = desired.model !== null && inCohort(deviceId, desired.cohort);
  if (!member) return { serve: desired.previous, standby: null, inCohort: false };
  if (desired.activate === 'new') {
    return { serve: desired.model, standby: desired.previous, inCohort: true };
  }
  return { serve: desired.previous, standby: desired.model, inCohort: true };
}

/** A device override (non-empty retained message on its own desired topic) wins over the group. */
export function effectiveDesired(
  group: DesiredState | null,
  device: DesiredState | null,
): DesiredState | null {
  return device ?? group;
}

export type Step =
  | { kind: 'idle' }
  /** Load `model` into the standby `slot` (download, verify, health check); activate it if asked. */
  | { kind: 'stage'; slot: Slot; model: ModelRef; activate: boolean }
  /** Swap: the standby `slot` becomes active. */
  | { kind: 'activate'; slot: Slot };

export function otherSlot(slot: Slot): Slot {
  return slot === 'blue' ? 'green' : 'blue';
}

function holds(slots: SlotsView, slot: Slot | null, model: ModelRef): boolean {
  return slot !== null && slots[slot]?.sha256 === model.sha256;
}

export function isVetoed(
  vetoes: readonly Veto[],
  deploymentId: string | null,
  model: ModelRef,
): boolean {
  return vetoes.some((v) => v.deployment_id === deploymentId && v.sha256 === model.sha256);
}

/**
 * The next step towards `target`, one at a time, so that the agent re-plans after every step
 * against the newest desired state. The active slot is never loaded into: a new model always goes
 * to the standby slot, and serving changes only by a swap.
 */
export function nextStep(
  target: Target,
  slots: SlotsView,
  deploymentId: string | null,
  vetoes: readonly Veto[],
): Step {
  const active = slots.active;
  const standby: Slot = active === null ? 'blue' : otherSlot(active);
  const allowed = (model: ModelRef | null): model is ModelRef =>
    model !== null && !isVetoed(vetoes, deploymentId, model);

  if (allowed(target.serve) && !holds(slots, active, target.serve)) {
    if (holds(slots, standby, target.serve)) return { kind: 'activate', slot: standby };
    return { kind: 'stage', slot: standby, model: target.serve, activate: true };
  }
  const keep = target.standby;
  if (allowed(keep) && !holds(slots, active, keep) && !holds(slots, standby, keep)) {
    return { kind: 'stage', slot: standby, model: keep, activate: false };
  }
  return { kind: 'idle' };
}

/**
 * The phase to report for the deployment's new model (`desired.model`): active when it serves,
 * staged when it waits in the standby slot, rolled_back when it served here before and no longer
 * does, failed when it is vetoed, notified while the agent has yet to get it (or is outside the
 * cohort).
 */
export function phaseOf(
  desired: DesiredState,
  slots: SlotsView,
  vetoes: readonly Veto[],
  servedBefore: boolean,
): { phase: DeploymentPhase; reason?: FailureReason; detail?: string } {
  const model = desired.model;
  if (model === null) return { phase: 'active' };
  const veto = vetoes.find(
    (v) => v.deployment_id === desired.deployment_id && v.sha256 === model.sha256,
  );
  const serving = holds(slots, slots.active, model);
  if (veto && !serving) {
    const rolledBack = veto.reason === 'error_burst' || veto.reason === 'manual';
    return {
      phase: rolledBack ? 'rolled_back' : 'failed',
      reason: veto.reason,
      detail: veto.detail,
    };
  }
  if (serving) return { phase: 'active' };
  const standby: Slot = slots.active === null ? 'blue' : otherSlot(slots.active);
  if (holds(slots, standby, model)) {
    return servedBefore ? { phase: 'rolled_back', reason: 'manual' } : { phase: 'staged' };
  }
  return { phase: 'notified' };
}

/** `served` with `key` (`<deployment_id>:<sha256>`) added last, keeping the newest 50. */
export function withServed(served: readonly string[], key: string): string[] {
  return served.includes(key) ? [...served] : [...served.slice(-49), key];
}
