/**
 * Device deferral on the hub's side, as a pure function: how long a device may stay in its phase
 * before the hub records it failed (timeout). A device that reports `deferred` (its application
 * holds the update lock) waits on purpose: it gets the device timeout plus the deployment's maximum
 * deferral, after which it has taken the update by itself or is stuck.
 */
import type { DeploymentPhase } from '@sentinel/broker';
import type { RolloutPolicy } from './rollout-types.js';

/** Phases in which a device is on its way and the device timeout applies. */
const WORKING_PHASES: ReadonlySet<DeploymentPhase> = new Set([
  'notified',
  'downloading',
  'verifying',
]);

/**
 * Seconds a device may spend in `phase` before it is timed out, or null for never: phases where it
 * is done (staged, active, failed, rolled_back), and `deferred` in a deployment without a maximum
 * deferral (the lock is the application's to release; its TTL bounds it).
 */
export function phaseTimeoutS(
  phase: DeploymentPhase | null,
  policy: Pick<RolloutPolicy, 'deviceTimeoutS' | 'maxDeferralS'>,
): number | null {
  if (phase === null) return null;
  if (WORKING_PHASES.has(phase)) return policy.deviceTimeoutS;
  if (phase === 'deferred') {
    return policy.maxDeferralS === undefined ? null : policy.deviceTimeoutS + policy.maxDeferralS;
  }
  return null;
}
