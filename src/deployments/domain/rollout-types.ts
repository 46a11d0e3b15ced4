/**
 * What the rollout decisions (rollout.ts) work on and answer: a deployment's view, its policy, its
 * devices, the decisions. Types and constants only.
 */
import type { DeploymentPhase } from '@sentinel/broker';
import type { AbortPolicy } from './abort.js';
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
