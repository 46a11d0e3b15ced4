/**
 * Rollout decisions as pure functions (design section 6): given a deployment, what its target
 * devices reported and the time, what happens next. The service applies the decision (publishes,
 * writes rows and events); everything here is arithmetic on the inputs.
 */
import { inCohort, type DeploymentPhase } from '@sentinel/broker';
import { abortDecision, type AbortPolicy } from './abort.js';
import { phaseTimeoutS } from './deferral.js';
import type { RatePolicy } from './rate.js';

export const DEPLOYMENT_STATUSES = [
  'pending',
  'staging',
  'in_progress',
  'paused',
  'succeeded',
  'rolled_back',
  'failed',
  'superseded',
] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/** The statuses in which the hub still drives the deployment. */
export const ACTIVE_STATUSES: readonly DeploymentStatus[] = [
  'pending',
  'staging',
  'in_progress',
  'paused',
];
export const DEPLOYMENT_TYPES = ['blue-green', 'canary'] as const;
export type DeploymentType = (typeof DEPLOYMENT_TYPES)[number];

/** Failures a device may get past on another attempt (the hub sends `reload` after a backoff). */
export const RETRYABLE_REASONS: ReadonlySet<string> = new Set([
  'download_failed',
  'timeout',
  'disk_full',
]);
export interface RolloutPolicy {
  stagingTimeoutS: number;
  deviceTimeoutS: number;
  /** Share of online target devices that must have staged for a cutover after the staging timeout. */
  minStagedShare: number;
  /** Share of failed devices (cohort, or all for blue/green) above which the deployment fails. */
  maxFailureShare: number;
  /** Retries (a `reload` command) of a device that failed for a retryable reason. */
  maxRetries: number;
  /** First retry delay; doubles per attempt. */
  retryBackoffS: number;
  canarySteps: number[];
  stepIntervalS: number;
  /**
   * After the cutover (blue/green) or once the last canary step is active everywhere, how long the
   * deployment stays in progress to be judged before it succeeds; 0: no observation. Absent in
   * deployments made before it existed: 0.
   */
  observeS?: number;
  /** What an observation that ends inconclusive does: succeed with a warning (default), or pause. */
  observeInconclusive?: 'succeed' | 'pause';
  /** Abort criteria (domain/abort.ts); absent: none. */
  abort?: AbortPolicy;
  /** At most this many devices notified per minute (domain/rate.ts); absent: all at once. */
  rate?: RatePolicy;
  /**
   * How long a device may defer the swap while its application holds the update lock (published
   * as `max_deferral_s`; domain/deferral.ts); absent: as long as the lock is held.
   */
  maxDeferralS?: number;
  /**
   * Shadow verification before the cutover (blue/green) or the first step (canary): staged devices
   * run the new model beside the serving one for `durationS`; the rules judge it (rules/domain/
   * shadow.ts). Absent: none.
   */
  shadow?: ShadowPolicy;
}

export interface ShadowPolicy {
  /** Share of the served inferences the candidate also runs, (0, 1]. */
  sampleRate: number;
  durationS: number;
  /** Samples waiting for the candidate on a device at most (the agent's default when absent). */
  queue?: number;
  /** The outputs' agreement (0..1) the candidate must reach. */
  minAgreement: number;
}

export interface DeploymentView {
  type: DeploymentType;
  status: DeploymentStatus;
  stepIndex: number;
  cohortSalt: string;
  /** When the current status (staging, in_progress) or canary step began. */
  stepStartedAt: Date;
  /** When the observation phase began, null outside it. */
  observingSince: Date | null;
  /** When the shadow phase began (every online device staged), null or absent outside it. */
  shadowSince?: Date | null;
  /** Abort criteria count devices done since then (a resume); null or absent: since the start. */
  abortFrom?: Date | null;
  /**
   * With a rate limit, the cohort notified so far (domain/rate.ts): devices outside it have not
   * been told yet and take no part. Null or absent: no rate limit.
   */
  notifiedPercent?: number | null;
  policy: RolloutPolicy;
}

/** Where an active deployment is, for people: what `status` alone does not say. */
export type DeploymentStage = 'staging' | 'shadow' | 'rolling_out' | 'observing' | 'paused' | null;

export interface DeviceView {
  id: string;
  online: boolean;
  /** The phase it reported for this deployment, or null if it has not reported yet. */
  phase: DeploymentPhase | null;
  reason: string | null;
  phaseSince: Date | null;
  attempts: number;
}

export type HealthVerdict = 'healthy' | 'degraded' | 'inconclusive';

export interface Counts {
  targets: number;
  online: number;
  /** Devices that take part in the current step (cohort, or every target). */
  participating: number;
  byPhase: Record<DeploymentPhase | 'unreported', number>;
  /** Failed for good (non-retryable, or out of retries). */
  failedFinal: number;
}

export type Decision =
  | { kind: 'wait'; why: string }
  /** Blue/green phase 2 (canary with shadow: the first step): the group(s) to `activate: "new"`. */
  | { kind: 'cutover'; why: string }
  /** Every online device staged: the shadow phase begins (the cutover waits for its verdict). */
  | { kind: 'shadow'; why: string }
  | { kind: 'advance'; stepIndex: number; why: string }
  /** Every device is on the new version: start observing it (the rules judge it meanwhile). */
  | { kind: 'observe'; why: string }
  /** `warning`: it succeeds without a healthy verdict (the observation ended inconclusive). */
  | { kind: 'succeed'; why: string; warning?: string }
  | { kind: 'pause'; why: string }
  | { kind: 'fail'; reason: string; why: string };

export interface Evaluation {
  decision: Decision;
  counts: Counts;
  /** Devices stuck in a working phase past the device timeout: record them failed (timeout). */
  timeouts: string[];
  /** Devices to retry now (send `reload`). */
  retries: string[];
}

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

const seconds = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;
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

/**
 * Staging is done: the cutover, unless the deployment asks for shadow verification first. Then the
 * shadow phase begins, lasts `durationS`, and ends on the rules' verdict on the shadow figures:
 * healthy (or no rules) cuts over, inconclusive pauses (a person promotes or rolls back), degraded
 * waits for the rules, which stop it (roll back, or pause with auto_rollback off) before any device
 * serves the candidate.
 */
function shadowGate(
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
function finish(
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
