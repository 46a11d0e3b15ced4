/**
 * Abort criteria (as AWS IoT Jobs' abort config): stop a deployment when too many of the devices
 * done so far failed in one way, once enough are done for the share to mean something. Pure; the
 * rollout evaluation asks it on every pass.
 */
import type { DeploymentPhase } from '@sentinel/broker';

export const FAILURE_TYPES = [
  'download',
  'verification',
  'health_check',
  'timeout',
  'rolled_back',
  'any',
] as const;
export type FailureType = (typeof FAILURE_TYPES)[number];

export const ABORT_ACTIONS = ['rollback', 'pause'] as const;
export type AbortAction = (typeof ABORT_ACTIONS)[number];

export interface AbortCriterion {
  failureType: FailureType;
  /** Abort when failures of this type are at least this share (percent) of the devices done. */
  thresholdPercent: number;
  /** ... and at least this many devices are done (succeeded or failed for good). */
  minDevicesDone: number;
}

export interface AbortPolicy {
  criteria: AbortCriterion[];
  /** rollback: the deployment fails and its devices go back; pause: it stops where it is. */
  action: AbortAction;
}

/** The failure type of a device's failure reason (FAILURE_REASONS of the protocol). */
export function failureTypeOf(phase: DeploymentPhase, reason: string | null): FailureType | null {
  if (phase === 'rolled_back') return 'rolled_back';
  if (phase !== 'failed') return null;
  switch (reason) {
    case 'download_failed':
    case 'disk_full':
    case 'too_large':
      return 'download';
    case 'hash_mismatch':
    case 'bad_signature':
    case 'unsigned':
      return 'verification';
    case 'load_error':
    case 'health_check':
    case 'error_burst':
      return 'health_check';
    case 'timeout':
      return 'timeout';
    default:
      return null;
  }
}

export interface DoneDevice {
  phase: DeploymentPhase;
  reason: string | null;
  phaseSince?: Date | null;
  /** Whether its failure is final (not to be retried); successes pass true. */
  final: boolean;
}

export interface AbortOutcome {
  criterion: AbortCriterion;
  failed: number;
  done: number;
  why: string;
}

const SUCCEEDED: ReadonlySet<DeploymentPhase> = new Set(['staged', 'active']);

/**
 * The first criterion `devices` meet, or null. Done: staged or active, or failed for good (a
 * failure that will be retried is not done yet). A device swapped back by its agent is done and
 * failed ('rolled_back'); 'any' counts every final failure.
 */
export function abortOutcome(
  policy: AbortPolicy | undefined,
  devices: readonly DoneDevice[],
): AbortOutcome | null {
  if (!policy || policy.criteria.length === 0) return null;
  const done = devices.filter((d) => SUCCEEDED.has(d.phase) || d.final);
  for (const criterion of policy.criteria) {
    if (done.length < criterion.minDevicesDone) continue;
    // A done device that did not succeed failed for good.
    const failed = done.filter(
      (d) =>
        !SUCCEEDED.has(d.phase) &&
        (criterion.failureType === 'any' ||
          failureTypeOf(d.phase, d.reason) === criterion.failureType),
    ).length;
    const percent = (failed / done.length) * 100;
    if (failed > 0 && percent >= criterion.thresholdPercent) {
      return {
        criterion,
        failed,
        done: done.length,
        why: `abort criteria: ${failed} of ${done.length} devices done failed with ${criterion.failureType} (${Math.round(percent * 10) / 10} %, threshold ${criterion.thresholdPercent} % after ${criterion.minDevicesDone} done)`,
      };
    }
  }
  return null;
}

/**
 * The abort criteria's decision, if `devices` meet them: fail (the deployment's devices go back) or
 * pause. Devices count from `from` on (a resume starts the criteria afresh); null: all of them.
 */
export function abortDecision(
  policy: AbortPolicy | undefined,
  from: Date | null,
  devices: readonly (Omit<DoneDevice, 'phase'> & { phase: DeploymentPhase | null })[],
): { kind: 'fail'; reason: 'abort_criteria'; why: string } | { kind: 'pause'; why: string } | null {
  if (!policy) return null;
  const since = from?.getTime() ?? -Infinity;
  const done = devices.flatMap((d) =>
    d.phase !== null && (d.phaseSince?.getTime() ?? since) >= since
      ? [{ ...d, phase: d.phase }]
      : [],
  );
  const outcome = abortOutcome(policy, done);
  if (!outcome) return null;
  return policy.action === 'rollback'
    ? { kind: 'fail', reason: 'abort_criteria', why: outcome.why }
    : { kind: 'pause', why: outcome.why };
}

/** Why a policy cannot be used, or null. */
export function checkAbortPolicy(policy: AbortPolicy): string | null {
  if (policy.criteria.length === 0) return 'abort.criteria needs at least one criterion';
  const types = new Set<string>();
  for (const c of policy.criteria) {
    if (types.has(c.failureType)) return `abort.criteria has failure_type ${c.failureType} twice`;
    types.add(c.failureType);
  }
  return null;
}
