/**
 * Rollout decisions as pure functions (design section 6): given a deployment, what its target
 * devices reported and the time, what happens next. The service applies the decision (publishes,
 * writes rows and events); everything here is arithmetic on the inputs.
 */
import { inCohort } from '@sentinel/broker';
import { abortDecision } from './abort.js';
import { phaseTimeoutS } from './deferral.js';
import { finish, seconds, shadowGate } from './phase-end.js';
import type {
  Counts,
  Decision,
  DeploymentView,
  DeviceView,
  Evaluation,
  HealthVerdict,
  RolloutPolicy,
} from './rollout-types.js';

export {
  ACTIVE_STATUSES,
  DEPLOYMENT_STATUSES,
  DEPLOYMENT_TYPES,
  type Counts,
  type Decision,
  type DeploymentStage,
  type DeploymentStatus,
  type DeploymentType,
  type DeploymentView,
  type DeviceView,
  type Evaluation,
  type HealthVerdict,
  type RolloutPolicy,
  type ShadowPolicy,
} from './rollout-types.js';

/** Failures a device may get past on another attempt (the hub sends `reload` after a backoff). */
export const RETRYABLE_REASONS: ReadonlySet<string> = new Set([
  'download_failed',
  'timeout',
  'disk_full',
]);
export function cohortPercent(view: Pick<DeploymentView, 'type' | 'stepIndex' | 'policy'>): number {
  if (view.type !== 'canary') return 100;
  const steps = view.policy.canarySteps;
  return steps[Math.min(view.stepIndex, steps.length - 1)]!;
}

export function isCanaryMember(deviceId: string, view: DeploymentView): boolean {
  return (
    view.type !== 'canary' ||
    inCohort(deviceId, { percent: cohortPercent(view), salt: view.cohortSalt })
  );
}

/** Whether the rate limit has let the deployment notify the device yet (always without one). */
export function isNotified(deviceId: string, view: DeploymentView): boolean {
  const percent = view.notifiedPercent ?? null;
  return percent === null || inCohort(deviceId, { percent, salt: view.cohortSalt });
}

/** Whether a rate-limited deployment still has devices of its current step to notify. */
export function isNotifying(view: DeploymentView): boolean {
  const percent = view.notifiedPercent ?? null;
  return percent !== null && percent < cohortPercent(view);
}

export function retryDelayS(policy: RolloutPolicy, attempts: number): number {
  return Math.min(policy.retryBackoffS * 2 ** attempts, 3600);
}

/** Failed for good: a non-retryable failure, out of retries, or swapped back by the device itself. */
export function isFinalFailure(device: DeviceView, policy: RolloutPolicy): boolean {
  if (device.phase === 'rolled_back') return true;
  return (
    device.phase === 'failed' &&
    (!RETRYABLE_REASONS.has(device.reason ?? '') || device.attempts >= policy.maxRetries)
  );
}

const share = (part: number, whole: number) => (whole === 0 ? 1 : part / whole);
const pct = (value: number) => `${Math.round(value * 1000) / 10} %`;

/**
 * One evaluation of an active deployment. Offline devices never hold a rollout back; failed ones
 * hold it back only up to the policy's share; devices that have not finished are timed out after
 * `deviceTimeoutS` in a working phase (plus the maximum deferral when deferred) and retried (bounded, with exponential backoff) when their
 * failure may pass.
 */
export function evaluate(
  view: DeploymentView,
  devices: readonly DeviceView[],
  now: Date,
  health: HealthVerdict | null = null,
): Evaluation {
  const { policy } = view;
  const timeouts: string[] = [];
  const retries: string[] = [];
  // Devices of the step the deployment has told (a rate limit notifies them over time); the others
  // are neither waited for, timed out nor counted.
  const takesPart = (d: DeviceView) => isCanaryMember(d.id, view) && isNotified(d.id, view);
  const effective = devices.map((device) => {
    const timeoutS = phaseTimeoutS(device.phase, policy);
    if (
      device.online &&
      timeoutS !== null &&
      device.phaseSince &&
      seconds(device.phaseSince, now) > timeoutS &&
      takesPart(device)
    ) {
      timeouts.push(device.id);
      return { ...device, phase: 'failed' as const, reason: 'timeout', phaseSince: now };
    }
    return device;
  });
  const participating = effective.filter(takesPart);
  for (const device of participating) {
    if (
      device.online &&
      device.phase === 'failed' &&
      RETRYABLE_REASONS.has(device.reason ?? '') &&
      device.attempts < policy.maxRetries &&
      device.phaseSince &&
      seconds(device.phaseSince, now) >= retryDelayS(policy, device.attempts)
    ) {
      retries.push(device.id);
    }
  }

  const online = participating.filter((d) => d.online);
  const byPhase: Counts['byPhase'] = {
    notified: 0,
    downloading: 0,
    verifying: 0,
    staged: 0,
    deferred: 0,
    active: 0,
    failed: 0,
    rolled_back: 0,
    unreported: 0,
  };
  for (const device of participating) byPhase[device.phase ?? 'unreported'] += 1;
  const failedFinal = online.filter((d) => isFinalFailure(d, policy)).length;
  const counts: Counts = {
    targets: devices.length,
    online: effective.filter((d) => d.online).length,
    participating: participating.length,
    byPhase,
    failedFinal,
  };
  const result = (decision: Decision): Evaluation => ({ decision, counts, timeouts, retries });

  if (view.status === 'paused' || view.status === 'pending') {
    return result({ kind: 'wait', why: view.status });
  }
  // Only deployments with abort criteria pay for the per-device pass.
  const aborted =
    policy.abort &&
    abortDecision(
      policy.abort,
      view.abortFrom ?? null,
      participating.map((d) => ({ ...d, final: isFinalFailure(d, policy) })),
    );
  if (aborted) return result(aborted);
  const failedShare = share(failedFinal, online.length);
  const staged = online.filter((d) => d.phase === 'staged' || d.phase === 'active').length;
  const active = online.filter((d) => d.phase === 'active').length;
  const settledOnline = online.length - failedFinal;
  const notifying = isNotifying(view);
  const inStep = effective.filter((d) => isCanaryMember(d.id, view)).length;
  const rateWait = (figures: string): Decision => ({
    kind: 'wait',
    why: `rate limit: ${participating.length} of ${inStep} devices notified; ${figures}`,
  });

  // Blue/green before its cutover; a canary with shadow verification before its first step.
  if (view.status === 'staging') {
    const pending = online.length - staged - failedFinal;
    const stagedShare = share(staged, online.length);
    const elapsed = seconds(view.stepStartedAt, now);
    const figures = `${staged}/${online.length} online devices staged (${pct(stagedShare)}), ${failedFinal} failed`;
    // The staging timeout counts from the last notification (the driver restarts the step then).
    if (notifying) return result(rateWait(figures));
    if (online.length === 0 && participating.length > 0) {
      // Nobody to stage yet: wait for devices to come online, up to the staging timeout.
      if (elapsed >= policy.stagingTimeoutS) {
        return result({
          kind: 'fail',
          reason: 'staging_timeout',
          why: `staging timeout (${policy.stagingTimeoutS} s): none of the ${participating.length} target devices came online`,
        });
      }
      return result({
        kind: 'wait',
        why: `staging: none of the ${participating.length} target devices is online`,
      });
    }
    if (pending === 0) {
      if (online.length > 0 && staged === 0) {
        return result({
          kind: 'fail',
          reason: 'staging_failed',
          why: `no device staged the model: ${figures}`,
        });
      }
      if (stagedShare >= policy.minStagedShare || failedFinal === 0) {
        return result(shadowGate(view, now, health, `every online device is done: ${figures}`));
      }
      return result({
        kind: 'fail',
        reason: 'staging_failed',
        why: `${figures}; the policy needs ${pct(policy.minStagedShare)}`,
      });
    }
    if (elapsed >= policy.stagingTimeoutS) {
      if (staged > 0 && stagedShare >= policy.minStagedShare) {
        return result(
          shadowGate(
            view,
            now,
            health,
            `staging timeout (${policy.stagingTimeoutS} s): ${figures}`,
          ),
        );
      }
      return result({
        kind: 'fail',
        reason: 'staging_timeout',
        why: `staging timeout (${policy.stagingTimeoutS} s): ${figures}; the policy needs ${pct(policy.minStagedShare)}`,
      });
    }
    return result({ kind: 'wait', why: `staging: ${figures}` });
  }

  // in_progress: blue/green after the cutover, or a canary step.
  const figures = `${active}/${online.length} online devices active, ${failedFinal} failed (${pct(failedShare)})`;
  if (online.length > 0 && failedShare > policy.maxFailureShare) {
    return result({
      kind: 'fail',
      reason: 'device_failures',
      why: `${figures}; more than the ${pct(policy.maxFailureShare)} the policy allows`,
    });
  }
  const done = active >= settledOnline;
  // No device takes part (an empty group or cohort): nothing to judge.
  if (participating.length === 0) health = null;
  if (view.type === 'blue-green') {
    if (online.length === 0 && participating.length > 0) {
      return result({
        kind: 'wait',
        why: `cutover: none of the ${participating.length} target devices is online`,
      });
    }
    return done
      ? result(finish(view, now, health, figures))
      : result({ kind: 'wait', why: `cutover: ${figures}` });
  }
  const percent = cohortPercent(view);
  const last = view.stepIndex >= policy.canarySteps.length - 1;
  if (notifying) return result(rateWait(`canary ${percent} %: ${figures}`));
  if (!done) return result({ kind: 'wait', why: `canary ${percent} %: ${figures}` });
  if (health === 'degraded') {
    return result({
      kind: 'wait',
      why: `canary ${percent} %: health degraded (the rules module decides)`,
    });
  }
  if (last) return result(finish(view, now, health, `canary 100 %: ${figures}`));
  const elapsed = seconds(view.stepStartedAt, now);
  if (elapsed < policy.stepIntervalS) {
    return result({
      kind: 'wait',
      why: `canary ${percent} %: ${figures}; next step in ${Math.ceil(policy.stepIntervalS - elapsed)} s`,
    });
  }
  if (health === 'inconclusive') {
    return result({ kind: 'wait', why: `canary ${percent} %: health inconclusive, holding` });
  }
  return result({
    kind: 'advance',
    stepIndex: view.stepIndex + 1,
    why: `canary ${percent} % ${health === 'healthy' ? 'healthy' : 'done'} after ${Math.round(elapsed)} s: ${figures}`,
  });
}
