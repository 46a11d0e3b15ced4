/**
 * How the phases that end a rollout's stages decide, as pure functions: the shadow phase after
 * staging, and the observation once every device runs the new version. Used by evaluate().
 */
import type { Decision, DeploymentView, HealthVerdict } from './rollout-types.js';

export const seconds = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;

/**
 * Staging is done: the cutover, unless the deployment asks for shadow verification first. Then the
 * shadow phase begins, lasts `durationS`, and ends on the rules' verdict on the shadow figures:
 * healthy (or no rules) cuts over, inconclusive pauses (a person promotes or rolls back), degraded
 * waits for the rules, which stop it (roll back, or pause with auto_rollback off) before any device
 * serves the candidate.
 */
export function shadowGate(
  view: DeploymentView,
  now: Date,
  health: HealthVerdict | null,
  figures: string,
): Decision {
  const shadow = view.policy.shadow;
  if (!shadow) return { kind: 'cutover', why: figures };
  const since = view.shadowSince ?? null;
  if (since === null) {
    return { kind: 'shadow', why: `${figures}; shadow verification for ${shadow.durationS} s` };
  }
  if (health === 'degraded') {
    return { kind: 'wait', why: 'shadow verification degraded (the rules module decides)' };
  }
  const left = shadow.durationS - seconds(since, now);
  if (left > 0) {
    return {
      kind: 'wait',
      why: `shadow verification: health ${health ?? 'not judged (rules off)'}, ${Math.ceil(left)} s left`,
    };
  }
  if (health === 'inconclusive') {
    return {
      kind: 'pause',
      why: `shadow verification of ${shadow.durationS} s ended inconclusive: resume to verify again (promote during it cuts over), or roll back`,
    };
  }
  return {
    kind: 'cutover',
    why: `shadow verification ${health ?? 'not judged (rules off)'} after ${shadow.durationS} s; ${figures}`,
  };
}

/**
 * The new version serves every (online, not failed) device: observe it for `observeS` while the
 * rules judge it, then succeed on a healthy verdict. A degraded one waits for the rules (they roll
 * back, or pause when auto_rollback is off); an inconclusive one does what the policy says. No
 * observation when it is 0 or the rules are off (no verdict to wait for).
 */
export function finish(
  view: DeploymentView,
  now: Date,
  health: HealthVerdict | null,
  figures: string,
): Decision {
  const observeS = view.policy.observeS ?? 0;
  if (health === null || observeS === 0) return { kind: 'succeed', why: figures };
  if (view.observingSince === null) {
    return { kind: 'observe', why: `${figures}; observing for ${observeS} s` };
  }
  const left = observeS - seconds(view.observingSince, now);
  if (left > 0) {
    return { kind: 'wait', why: `observing: health ${health}, ${Math.ceil(left)} s left` };
  }
  if (health === 'healthy') {
    return { kind: 'succeed', why: `healthy after observing for ${observeS} s: ${figures}` };
  }
  if (health === 'degraded') {
    return { kind: 'wait', why: 'observation over, health degraded (the rules module decides)' };
  }
  if (view.policy.observeInconclusive === 'pause') {
    return {
      kind: 'pause',
      why: `observation of ${observeS} s ended inconclusive; observe_inconclusive is pause`,
    };
  }
  return {
    kind: 'succeed',
    why: `observed for ${observeS} s: ${figures}`,
    warning: `observation of ${observeS} s ended without a healthy verdict (inconclusive)`,
  };
}
