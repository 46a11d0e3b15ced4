import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { actorOf, type Principal } from '../auth/auth.decorators.js';
import { DomainError, notFound } from '../common/domain-error.js';
import { DesiredStateService, type StagedDesired } from '../broker/desired-state.service.js';
import type { Deployment } from './deployment.entity.js';
import type { DeploymentSummary } from './deployment-views.js';
import { DeploymentEvents } from './deployment-events.js';
import { DeploymentQueries } from './deployment-queries.js';
import { DeploymentTransitions } from './deployment-transitions.js';
import { DeploymentsRepository } from './deployments.repository.js';
import { DeploymentsService, type Action } from './deployments.service.js';
import { allowedFrom } from './domain/status.js';

/**
 * The actions on a deployment: a person's (rollback, pause, resume, promote), or the rules
 * module's through DeploymentJudging. Each runs under the deployment's row lock, only from a
 * status that allows it (domain/status.ts).
 */
@Injectable()
export class DeploymentActions {
  constructor(
    private readonly repo: DeploymentsRepository,
    private readonly transitions: DeploymentTransitions,
    private readonly queries: DeploymentQueries,
    private readonly desired: DesiredStateService,
    private readonly events: DeploymentEvents,
    private readonly deployments: DeploymentsService,
  ) {}

  async act(
    id: string,
    action: Action,
    principal: Principal,
    reason?: string,
  ): Promise<DeploymentSummary> {
    return this.actAs(id, action, actorOf(principal), reason);
  }

  /** An action by `actor` (a token, or the hub's rules module), with the figures behind it. */
  async actAs(
    id: string,
    action: Action,
    actor: string,
    reason?: string,
    figures: Record<string, unknown> = {},
  ): Promise<DeploymentSummary> {
    const staged: StagedDesired[] = [];
    await this.repo.transaction(async (m) => {
      const deployment = await this.repo.lock(m, id);
      if (!deployment) throw notFound('deployment', id);
      if (!allowedFrom(action).includes(deployment.status)) {
        throw new DomainError(
          'CONFLICT',
          `cannot ${action} deployment ${id}: it is ${deployment.status}` +
            (action === 'rollback' && deployment.status === 'rolled_back' ? ' already' : ''),
        );
      }
      switch (action) {
        case 'rollback':
          staged.push(
            ...(await this.rollBack(m, deployment, actor, reason ?? 'manual rollback', figures)),
          );
          break;
        case 'pause':
          await this.transitions.transition(m, id, 'paused', actor, reason ?? 'paused', figures, {
            pausedFrom: deployment.status,
          });
          break;
        case 'resume':
          // A new interval for the step, a new observation (or shadow phase) if it was in one.
          await this.transitions.transition(
            m,
            id,
            deployment.pausedFrom ?? 'in_progress',
            actor,
            reason ?? 'resumed',
            {},
            {
              pausedFrom: null,
              stepStartedAt: new Date(),
              observingSince: null,
              shadowSince: null,
              abortFrom: new Date(),
            },
          );
          break;
        case 'promote':
          staged.push(...(await this.promote(m, deployment, actor)));
          break;
      }
    });
    this.transitions.flushAnnotations();
    await this.desired.send(staged);
    this.deployments.notifyChanged(id, action);
    const summary = await this.queries.summary(id);
    this.events.emit('deployment.changed', { id, status: summary.deployment.status });
    return summary;
  }

  /**
   * Flips every group back to the previous model (devices keep it loaded on standby: a swap, no
   * download). Runs under the deployment's row lock, and only from a status that allows it, so two
   * calls (or two hubs) roll back once: the second finds it rolled_back.
   */
  private async rollBack(
    m: EntityManager,
    deployment: Deployment,
    actor: string,
    reason: string,
    figures: Record<string, unknown>,
  ): Promise<StagedDesired[]> {
    if (deployment.status === 'pending') {
      // Not started (scheduled, or waiting for a window): nothing was published, nothing to undo.
      await this.transitions.transition(m, deployment.id, 'rolled_back', actor, reason, figures);
      return [];
    }
    const groups = await this.repo.groups(m, deployment.id);
    if (deployment.status === 'succeeded') {
      // Only the deployment a group still follows may be rolled back; a later one replaced it.
      // (Of the same named model: the others' deployments are none of this one's business.)
      const current = await this.desired.groupStates(
        m,
        groups.map((g) => g.groupName),
        deployment.serveAs,
      );
      const moved = [...current].find(([, state]) => state?.deployment_id !== deployment.id);
      if (moved) {
        throw new DomainError(
          'CONFLICT',
          `group ${moved[0]} follows deployment ${moved[1]?.deployment_id ?? null} now; roll that one back instead`,
        );
      }
    }
    const missing = groups.find((g) => g.previousModelId === null);
    if (missing) {
      throw new DomainError(
        'CONFLICT',
        `group ${missing.groupName} ran no model before this deployment: there is nothing to roll back to`,
      );
    }
    await this.transitions.transition(m, deployment.id, 'rolled_back', actor, reason, figures);
    return this.transitions.rollBackAll(m, deployment, groups, actor);
  }

  private async promote(
    m: EntityManager,
    deployment: Deployment,
    actor: string,
  ): Promise<StagedDesired[]> {
    const groups = await this.repo.groups(m, deployment.id);
    // Blue/green, or a canary staged for shadow verification: promoting cuts over now.
    if (deployment.type === 'blue-green' || deployment.status === 'staging') {
      if (deployment.status !== 'staging') {
        throw new DomainError('CONFLICT', `deployment ${deployment.id} has already cut over`);
      }
      await this.transitions.transition(
        m,
        deployment.id,
        'in_progress',
        actor,
        'promoted: cutover now',
        {},
        {
          stepStartedAt: new Date(),
          // The cutover is for every device at once, the rate limit's pending ones too.
          ...(deployment.type === 'blue-green' && deployment.admission
            ? { admission: { ...deployment.admission, percent: 100 } }
            : {}),
        },
      );
      return this.transitions.publishAll(m, deployment, groups, 'new', actor);
    }
    const last = deployment.policy.canarySteps.length - 1;
    if (deployment.stepIndex >= last) {
      throw new DomainError(
        'CONFLICT',
        `deployment ${deployment.id} is already at its last step (100 %)`,
      );
    }
    return this.transitions.step(m, deployment, deployment.stepIndex + 1, actor, 'promoted', {});
  }
}
