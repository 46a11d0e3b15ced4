// Stage gates: what a model version must have passed before it may be deployed to an environment.
// Pure; the deployments service asks it when a deployment is created.
import type { Stage } from '../../registry/domain/model-rules.js';

export interface GatePolicy {
  /** The stage a version must be in (e.g. production), or null. */
  requiredStage: Stage | null;
  /** An environment where the same version must have had a succeeded deployment first, or null. */
  requireSuccessIn: string | null;
}

export interface GateSubject {
  model: string;
  stage: Stage;
  /** Whether a deployment of this very version succeeded in policy.requireSuccessIn. */
  succeededThere: boolean;
}

/** Why a policy cannot be stored for `environment`, or null. */
export function checkGatePolicy(environment: string, policy: GatePolicy): string | null {
  if (policy.requiredStage === null && policy.requireSuccessIn === null)
    return 'set required_stage or require_success_in (DELETE removes the gates)';
  if (policy.requireSuccessIn === environment)
    return `require_success_in cannot be the environment itself (${environment})`;
  return null;
}

/** The reasons a deployment of `subject` to `environment` is held by its gates (empty: it may go). */
export function gateProblems(
  environment: string,
  policy: GatePolicy,
  subject: GateSubject,
): string[] {
  const problems: string[] = [];
  if (policy.requiredStage !== null && subject.stage !== policy.requiredStage) {
    problems.push(
      `${environment} takes versions in stage ${policy.requiredStage}; ${subject.model} is in ${subject.stage}`,
    );
  }
  if (policy.requireSuccessIn !== null && !subject.succeededThere) {
    problems.push(
      `${environment} takes versions after a succeeded deployment in ${policy.requireSuccessIn}; ${subject.model} has none`,
    );
  }
  return problems;
}

/** The refusal's message: the reasons, and how to proceed. */
export function gateRefusal(problems: readonly string[]): string {
  return `${problems.join('; ')} (move the version's stage, or an admin passes override_gates: true)`;
}
