import { randomUUID } from 'node:crypto';
import { DEFAULT_MODEL_NAME } from '@sentinel/broker';
import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { actorOf, type Principal } from '../auth/auth.decorators.js';
import { DomainError, notFound } from '../common/domain-error.js';
import {
  DesiredStateService,
  type DesiredIntent,
  type StagedDesired,
} from '../broker/desired-state.service.js';
import { checkDeployable } from '../registry/domain/model-format.js';
import { RegistryService } from '../registry/registry.service.js';
import { GatesService } from './gates/gates.service.js';
import { DeploymentCompatibility } from './deployment-compatibility.js';
import { DeploymentTargets } from './deployment-targets.js';
import { Deployment } from './deployment.entity.js';
import type { DeploymentSummary } from './deployment-views.js';
import { DeploymentEvents } from './deployment-events.js';
import { DeploymentQueries } from './deployment-queries.js';
import { DeploymentTransitions, type Activate } from './deployment-transitions.js';
import { DeploymentsRepository } from './deployments.repository.js';
import { creationWarnings, policyOf, previousModelOf, stagesFirst } from './domain/policy.js';
import { allowedFrom } from './domain/status.js';
import { NO_ADMISSION } from './domain/rate.js';
import { notificationHold } from './domain/schedule.js';
import { rulesPolicy } from './domain/rules-policy.js';
import type { CreateDeploymentDto } from './dto/deployment-requests.dto.js';

export type { DeploymentDetail, DeploymentSummary } from './deployment-views.js';

export type Action = 'rollback' | 'pause' | 'resume' | 'promote';

/**
 * Deployments: creates them and carries out actions (a person's, or the rules module's through
 * DeploymentJudging). Transitions and publishing are DeploymentTransitions', reads
 * DeploymentQueries', the rollout loop RolloutDriver's, the SQL DeploymentsRepository's.
 */
@Injectable()
export class DeploymentsService {
  private readonly logger = new Logger('Deployments');
  private readonly listeners: ((event: { id: string; kind: 'created' | Action }) => void)[] = [];

  constructor(
    private readonly repo: DeploymentsRepository,
    private readonly transitions: DeploymentTransitions,
    private readonly queries: DeploymentQueries,
    private readonly registry: RegistryService,
    private readonly desired: DesiredStateService,
    private readonly gates: GatesService,
    private readonly targets: DeploymentTargets,
    private readonly events: DeploymentEvents,
    private readonly compatibility: DeploymentCompatibility,
  ) {
    registry.addUsageCheck((m, modelId) => this.repo.modelUse(m, modelId));
  }

  /** Called after a deployment is created or acted on (the rollout driver re-evaluates). */
  onChange(listener: (event: { id: string; kind: 'created' | Action }) => void): void {
    this.listeners.push(listener);
  }

  // --- creating -------------------------------------------------------------------------------

  async create(input: CreateDeploymentDto, principal: Principal): Promise<DeploymentSummary> {
    const policy = policyOf(input);
    const model = await this.registry.get(input.model_id);
    const notRunnable = checkDeployable(model);
    if (notRunnable) throw new DomainError('NOT_DEPLOYABLE', notRunnable);
    const actor = actorOf(principal);
    const serveAs = input.serve_as ?? DEFAULT_MODEL_NAME;
    const id = randomUUID();
    const staged: StagedDesired[] = [];
    let warnings: string[] = [];
    let superseded: string[] = [];
    let status = '';
    await this.repo.transaction(async (m) => {
      const locked = await this.targets.lockTargetGroups(m, input.environment, input.target);
      if (locked.length === 0)
        await this.targets.explainNoGroups(m, input.environment, input.target);
      // What each group is told now for the named model this deployment replaces.
      const states = await this.desired.groupStates(
        m,
        locked.map((g) => g.name),
        serveAs,
      );
      const groups = locked.map((g) => ({ ...g, desired: states.get(g.name) ?? null }));
      const gates = await this.gates.check(
        m,
        input.environment,
        model,
        input.override_gates ?? false,
        principal,
      );

      const ids = groups.map((g) => g.id);
      const judged = await this.compatibility.judge(m, ids, model, serveAs);
      const now = new Date();
      const startAt = input.start_at === undefined ? null : new Date(input.start_at);
      // Scheduled, or a group outside its maintenance window: pending, nothing published yet.
      const hold = notificationHold(
        startAt,
        groups.map((g) => ({ name: g.name, windows: g.maintenance_windows ?? [] })),
        now,
      );
      const active = await this.repo.activeOn(m, ids, serveAs);
      if (active.length > 0 && !input.supersede) {
        const first = active[0];
        const of = serveAs === DEFAULT_MODEL_NAME ? '' : ` of model ${serveAs}`;
        throw new DomainError(
          'CONFLICT',
          `group ${first.group_name} already has an active deployment${of} (${first.deployment_id}, ${first.status}); ` +
            'wait for it to finish, roll it back, or pass supersede: true',
          { deployment_id: first.deployment_id },
        );
      }
      superseded = [...new Set(active.map((a) => a.deployment_id))];

      const previousIds = groups.map((g) => previousModelOf(g.desired, model.id));
      const previous = await this.repo.models(m, previousIds);
      const deployment = m.getRepository(Deployment).create({
        id,
        modelId: model.id,
        environment: input.environment,
        type: input.deployment_type,
        target: input.target,
        serveAs,
        status: hold
          ? 'pending'
          : stagesFirst(policy, input.deployment_type)
            ? 'staging'
            : 'in_progress',
        statusReason: hold,
        pausedFrom: null,
        stepIndex: 0,
        stepStartedAt: new Date(),
        cohortSalt: input.canary?.salt ?? id,
        policy,
        rules: input.rules ?? {},
        autoRollback: input.auto_rollback ?? true,
        verdict: null,
        verdictAt: null,
        observingSince: null,
        shadowSince: null,
        abortFrom: null,
        admission: policy.rate ? NO_ADMISSION : null,
        startAt,
        supersededBy: null,
        createdBy: actor,
        finishedAt: null,
      });
      // The new deployment's row must exist before older ones can point at it.
      await this.repo.insert(m, deployment);
      status = deployment.status;
      for (const old of superseded) {
        await this.transitions.transition(
          m,
          old,
          'superseded',
          actor,
          `superseded by deployment ${id}`,
          {},
          {
            supersededBy: id,
          },
        );
      }
      await this.repo.insertGroups(
        m,
        groups.map((g, i) => ({
          deploymentId: id,
          groupId: g.id,
          groupName: g.name,
          previousModelId: previousIds[i],
          serveAs,
          active: true,
        })),
      );
      // Devices skipped as incompatible keep their model by a hold (deployment-compatibility.ts).
      staged.push(
        ...(await this.compatibility.apply(
          m,
          id,
          judged,
          new Map(groups.map((g) => [g.id, g.desired])),
          actor,
          serveAs,
        )),
      );
      const assigned = new Set(judged.assignment.assigned);
      const targets = groups.map((g, i) => ({
        name: g.name,
        devices: judged.facts
          .filter((d) => d.group_id === g.id && assigned.has(d.id))
          .map((d) => d.id),
        ranModel: previousIds[i] !== null,
      }));
      warnings = creationWarnings({
        type: deployment.type,
        groups: targets,
        steps: policy.canarySteps,
        salt: deployment.cohortSalt,
        rules: rulesPolicy(deployment.rules),
      });
      await this.repo.event(m, id, actor, 'created', null, deployment.status, null, {
        // `ref` as asked (an id, name@version or name@alias), and the version it resolved to.
        model: { id: model.id, name: model.name, version: model.version, ref: input.model_id },
        serve_as: serveAs,
        ...(gates.overridden ? { gates_overridden: gates.problems } : {}),
        groups: groups.map((g, i) => ({ name: g.name, previous_model_id: previousIds[i] })),
        policy,
        ...(warnings.length > 0 ? { warnings } : {}),
        ...(judged.assignment.skipped.length > 0
          ? { skipped_incompatible: judged.assignment.skipped.slice(0, 100) }
          : {}),
      });
      const activate: Activate = stagesFirst(policy, input.deployment_type) ? 'stage' : 'new';
      const intents = new Map<string, DesiredIntent>();
      for (const [i, g] of hold ? [] : groups.entries()) {
        const intent = this.transitions.intent(
          deployment,
          model,
          previous.get(previousIds[i] ?? '') ?? null,
          activate,
        );
        intents.set(g.id, intent);
        staged.push(
          await this.desired.store({ kind: 'group', name: g.name, serveAs }, intent, actor, m),
        );
      }
      // Devices the hub held and this deployment reaches follow it with their own fallback.
      staged.push(...(await this.compatibility.follow(m, id, intents, actor, serveAs)));
    });
    this.transitions.flushAnnotations();
    for (const old of superseded)
      this.events.emit('deployment.changed', { id: old, status: 'superseded' });
    this.events.emit('deployment.changed', { id, status });
    await this.desired.send(staged);
    for (const listener of this.listeners) listener({ id, kind: 'created' });
    this.logger.log(
      `deployment ${id}: ${input.deployment_type} of ${model.name}@${model.version} to ${input.target}` +
        (serveAs === DEFAULT_MODEL_NAME ? '' : ` as ${serveAs}`),
    );
    return { ...(await this.queries.summary(id)), warnings };
  }

  // --- actions ----------------------------------------------------------------------------------

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
    for (const listener of this.listeners) listener({ id, kind: action });
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
