import { Injectable } from '@nestjs/common';
import { cohortBucket } from '@sentinel/broker';
import type { EntityManager } from 'typeorm';
import type { StagedDesired } from '../broker/desired-state.service.js';
import type { Deployment } from './deployment.entity.js';
import { DeploymentsRepository } from './deployments.repository.js';
import { DeploymentTransitions } from './deployment-transitions.js';
import { admit } from './domain/rate.js';
import { cohortPercent, type DeviceView } from './domain/rollout.js';

/**
 * The rate limit's hand on the wire: on each evaluation of a rate-limited deployment, notifies the
 * devices the rate lets through (domain/rate.ts decides) by widening the cohort of the group's
 * desired state. The staging timeout (blue/green) and the step interval (canary) count from the
 * moment the last device of the step is told.
 */
@Injectable()
export class RolloutRate {
  constructor(
    private readonly repo: DeploymentsRepository,
    private readonly transitions: DeploymentTransitions,
  ) {}

  /** Whether the deployment may notify more devices in its current state. */
  notifies(deployment: Deployment): boolean {
    if (!deployment.policy.rate || !deployment.admission) return false;
    if (deployment.status === 'staging') return true;
    return (
      deployment.type === 'canary' &&
      deployment.status === 'in_progress' &&
      deployment.observingSince === null
    );
  }

  /**
   * Notifies what the rate allows now (`deployment.admission` is updated in place); `hold` is
   * asked only when there is someone to notify (a schedule or a closed maintenance window).
   */
  async notifyMore(
    m: EntityManager,
    deployment: Deployment,
    devices: readonly DeviceView[],
    hold: () => Promise<string | null>,
    now: Date,
  ): Promise<StagedDesired[]> {
    const admission = deployment.admission;
    const rate = deployment.policy.rate;
    if (!admission || !rate || !this.notifies(deployment)) return [];
    const result = admit({
      policy: rate,
      admission,
      buckets: devices.map((d) => cohortBucket(deployment.cohortSalt, d.id)),
      stepPercent: cohortPercent(deployment),
      succeeded: devices.filter((d) => d.phase === 'staged' || d.phase === 'active').length,
      now,
    });
    if (result.admission.percent === admission.percent) return [];
    const held = await hold();
    if (held) {
      if (deployment.statusReason !== held)
        await this.repo.update(m, deployment.id, { statusReason: held });
      return [];
    }
    const complete = result.notified === result.inStep;
    deployment.admission = result.admission;
    await this.repo.update(m, deployment.id, {
      admission: result.admission,
      ...(complete ? { stepStartedAt: now } : {}),
    });
    if (complete) {
      deployment.stepStartedAt = now;
      await this.transitions.note(
        m,
        deployment.id,
        'notified',
        'hub',
        `all ${result.inStep} devices of the ${deployment.type === 'canary' ? `${cohortPercent(deployment)} % step` : 'deployment'} notified (up to ${result.rate}/min)`,
        { notified: result.notified, rate_per_minute: result.rate },
      );
    }
    const groups = await this.repo.groups(m, deployment.id);
    const activate = deployment.status === 'staging' ? 'stage' : 'new';
    return this.transitions.publishAll(m, deployment, groups, activate, 'hub');
  }
}
