/**
 * A deployment's policy from its request, and the small decisions around it, as pure functions:
 * what a group falls back to, which verdict a step may use, what to warn about at creation.
 */
import { inCohort, type DesiredState, type ModelRef } from '@sentinel/broker';
import { validationFailed } from '../../common/domain-error.js';
import type { CreateDeploymentDto } from '../dto/deployment-requests.dto.js';
import { checkAbortPolicy, type AbortPolicy } from './abort.js';
import { checkRatePolicy, type RatePolicy } from './rate.js';
import type { Counts, DeploymentView, HealthVerdict, RolloutPolicy } from './rollout-types.js';
import { OUTSIDE_MIN_DEVICES, rulesPolicy, type RulesPolicy } from './rules-policy.js';

const DEFAULT_STEPS = [5, 25, 100];
export const DEFAULT_OBSERVE_S = 300;
export const DEFAULT_MIN_AGREEMENT = 0.9;

export function policyOf(input: CreateDeploymentDto): RolloutPolicy {
  try {
    rulesPolicy(input.rules);
  } catch (error) {
    throw validationFailed((error as Error).message);
  }
  if (input.deployment_type === 'blue-green' && input.canary) {
    throw validationFailed('canary options apply only to deployment_type canary');
  }
  const steps = input.canary?.steps ?? DEFAULT_STEPS;
  if (steps.some((s, i) => i > 0 && s <= steps[i - 1]!) || steps.at(-1) !== 100) {
    throw validationFailed('canary.steps must increase and end at 100');
  }
  const abort = abortPolicyOf(input.abort);
  const abortProblem = abort ? checkAbortPolicy(abort) : null;
  if (abortProblem) throw validationFailed(abortProblem);
  const rate = ratePolicyOf(input.rate);
  const rateProblem = rate ? checkRatePolicy(rate) : null;
  if (rateProblem) throw validationFailed(rateProblem);
  return {
    stagingTimeoutS: input.staging_timeout_s ?? 600,
    deviceTimeoutS: input.device_timeout_s ?? 900,
    minStagedShare: input.min_staged_share ?? 0.8,
    maxFailureShare: input.max_failure_share ?? 0.2,
    maxRetries: input.max_retries ?? 3,
    retryBackoffS: 10,
    canarySteps: steps,
    stepIntervalS: input.canary?.step_interval_s ?? 300,
    observeS: input.observe_s ?? DEFAULT_OBSERVE_S,
    observeInconclusive: input.observe_inconclusive ?? 'succeed',
    ...(abort ? { abort } : {}),
    ...(rate ? { rate } : {}),
    ...(input.shadow
      ? {
          shadow: {
            sampleRate: input.shadow.sample_rate,
            durationS: input.shadow.duration_s,
            ...(input.shadow.queue !== undefined ? { queue: input.shadow.queue } : {}),
            minAgreement: input.shadow.min_agreement ?? DEFAULT_MIN_AGREEMENT,
          },
        }
      : {}),
    // Published only when asked for: an agent that predates it refuses unknown fields.
    ...(input.max_deferral_s !== undefined ? { maxDeferralS: input.max_deferral_s } : {}),
  };
}

function ratePolicyOf(input: CreateDeploymentDto['rate']): RatePolicy | undefined {
  if (!input) return undefined;
  const ramp = input.ramp;
  return {
    maxPerMinute: input.max_per_minute,
    ...(ramp
      ? {
          ramp: {
            basePerMinute: ramp.base_per_minute,
            factor: ramp.factor,
            everySucceeded: ramp.every_succeeded,
          },
        }
      : {}),
  };
}

function abortPolicyOf(input: CreateDeploymentDto['abort']): AbortPolicy | undefined {
  if (!input) return undefined;
  return {
    criteria: input.criteria.map((c) => ({
      failureType: c.failure_type,
      thresholdPercent: c.threshold_percent,
      minDevicesDone: c.min_devices_done ?? 1,
    })),
    action: input.action ?? 'rollback',
  };
}

/**
 * Whether a deployment stages the new model beside the serving one before any device serves it:
 * blue/green always, a canary when it asks for shadow verification (before its first step).
 */
export function stagesFirst(
  policy: Pick<RolloutPolicy, 'shadow'>,
  type: DeploymentView['type'],
): boolean {
  return type === 'blue-green' || policy.shadow !== undefined;
}

/** What a group serves now (what a rollback returns to): the desired model unless that is `model`. */
export function previousModelOf(desired: DesiredState | null, modelId: string): string | null {
  if (!desired) return null;
  const serving: ModelRef | null =
    desired.activate === 'new' && desired.cohort === null ? desired.model : desired.previous;
  if (serving && serving.id !== modelId) return serving.id;
  // Deploying what already serves: fall back to what served before that.
  return desired.previous && desired.previous.id !== modelId ? desired.previous.id : null;
}

/**
 * The rules module's verdict for the current step: null when its rules are off (steps then follow
 * the interval alone), inconclusive when there is no fresh one for this step.
 */
export function healthVerdictOf(
  deployment: {
    rules: Record<string, unknown> | null;
    verdict: HealthVerdict | null;
    verdictAt: Date | null;
    stepStartedAt: Date;
  },
  now: Date,
  rulesIntervalS: number,
): HealthVerdict | null {
  if (deployment.rules?.enabled === false) return null;
  if (!deployment.verdict || !deployment.verdictAt) return 'inconclusive';
  const at = deployment.verdictAt.getTime();
  if (at < deployment.stepStartedAt.getTime()) return 'inconclusive';
  if (now.getTime() - at > 3 * rulesIntervalS * 1000 + 1000) return 'inconclusive';
  return deployment.verdict;
}

export function viewOf(deployment: {
  type: DeploymentView['type'];
  status: DeploymentView['status'];
  stepIndex: number;
  cohortSalt: string;
  stepStartedAt: Date;
  observingSince: Date | null;
  shadowSince?: Date | null;
  abortFrom?: Date | null;
  admission?: { percent: number } | null;
  policy: RolloutPolicy;
}): DeploymentView {
  return {
    type: deployment.type,
    status: deployment.status,
    stepIndex: deployment.stepIndex,
    cohortSalt: deployment.cohortSalt,
    stepStartedAt: deployment.stepStartedAt,
    observingSince: deployment.observingSince,
    shadowSince: deployment.shadowSince ?? null,
    abortFrom: deployment.abortFrom ?? null,
    notifiedPercent: deployment.admission?.percent ?? null,
    policy: deployment.policy,
  };
}

export function figuresOf(counts: Counts, why: string): Record<string, unknown> {
  return {
    targets: counts.targets,
    online: counts.online,
    participating: counts.participating,
    failed_final: counts.failedFinal,
    phases: counts.byPhase,
    why,
  };
}

/**
 * What the rules will not be able to judge as one might expect, said when the deployment is made:
 * a group with fewer devices than the rules need, a canary step that leaves no device outside its
 * cohort (judged against the same devices before it), or one whose cohort is empty (it advances on
 * its interval alone).
 */
export function creationWarnings(input: {
  type: DeploymentView['type'];
  groups: { name: string; devices: string[]; ranModel: boolean }[];
  steps: number[];
  salt: string;
  rules: RulesPolicy;
}): string[] {
  if (!input.rules.enabled) return [];
  const warnings: string[] = [];
  for (const group of input.groups) {
    if (!group.ranModel) {
      warnings.push(
        `group ${group.name} ran no model before: no baseline to judge against nor to roll back to; the rules do not hold this deployment`,
      );
      continue;
    }
    const n = group.devices.length;
    if (n < input.rules.min_devices) {
      warnings.push(
        `group ${group.name} has ${n} device(s); the rules need ${input.rules.min_devices} (rules.min_devices) for a verdict`,
      );
    }
  }
  // Without a baseline for every group the rules do not hold the deployment: steps are not judged.
  if (input.type !== 'canary' || input.groups.some((g) => !g.ranModel)) return warnings;
  const all = input.groups.flatMap((g) => g.devices);
  for (const percent of input.steps) {
    if (percent >= 100 || all.length === 0) continue;
    const inside = all.filter((id) => inCohort(id, { percent, salt: input.salt })).length;
    if (inside === 0) {
      warnings.push(
        `canary step ${percent} % has no device in its cohort: nothing to judge, it moves on after its interval`,
      );
    } else if (inside < OUTSIDE_MIN_DEVICES || all.length - inside < OUTSIDE_MIN_DEVICES) {
      warnings.push(
        `canary step ${percent} % leaves ${all.length - inside} of ${all.length} device(s) outside its cohort (${inside} in it; ` +
          `a comparison with the others needs ${OUTSIDE_MIN_DEVICES} on each side): it is judged against the same devices before the step`,
      );
    }
  }
  return warnings;
}
