import { randomUUID } from 'node:crypto';
import { DEFAULT_MODEL_NAME } from '@sentinel/broker';
import { Injectable, Logger } from '@nestjs/common';
import { actorOf, type Principal } from '../auth/auth.decorators.js';
import { DomainError } from '../common/domain-error.js';
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
import { NO_ADMISSION } from './domain/rate.js';
import { notificationHold } from './domain/schedule.js';
import { rulesPolicy } from './domain/rules-policy.js';
import type { CreateDeploymentDto } from './dto/deployment-requests.dto.js';

export type { DeploymentDetail, DeploymentSummary } from './deployment-views.js';

export type Action = 'rollback' | 'pause' | 'resume' | 'promote';

/**
 * Deployments: creates them and tells who listens of every change. Actions are DeploymentActions',
 * transitions and publishing DeploymentTransitions', reads DeploymentQueries', the rollout loop
 * RolloutDriver's, the SQL DeploymentsRepository's.
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
    this.notifyChanged(id, 'created');
    this.logger.log(
      `deployment ${id}: ${input.deployment_type} of ${model.name}@${model.version} to ${input.target}` +
        (serveAs === DEFAULT_MODEL_NAME ? '' : ` as ${serveAs}`),
    );
    return { ...(await this.queries.summary(id)), warnings };
  }

  /** Tells the listeners (the rollout driver) of a change: a creation, or an action carried out. */
  notifyChanged(id: string, kind: 'created' | Action): void {
    for (const listener of this.listeners) listener({ id, kind });
  }
}
