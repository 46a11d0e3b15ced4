import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { DesiredState } from '@sentinel/broker';
import type { EntityManager } from 'typeorm';
import { notFound } from '../common/domain-error.js';
import {
  DesiredStateService,
  type DesiredIntent,
  type StagedDesired,
} from '../broker/desired-state.service.js';
import type { ModelVersion } from '../registry/model-version.entity.js';
import {
  TELEMETRY_STORE,
  type DeploymentEventPoint,
  type TelemetryStore,
} from '../telemetry/telemetry-store.js';
import { DeploymentCompatibility } from './deployment-compatibility.js';
import type { Deployment, DeploymentGroup } from './deployment.entity.js';
import { DeploymentsRepository } from './deployments.repository.js';
import { cohortPercent, type DeploymentStatus } from './domain/rollout.js';

/**
 * What a group is told: `stage` the new model beside the serving one (blue/green, or a canary with
 * shadow before its first step; with the shadow request when the deployment asks for it), serve the
 * `new` one, or go back to the `previous` one (rollback, failure).
 */
export type Activate = 'stage' | 'new' | 'previous';

const FINISHED: readonly DeploymentStatus[] = ['succeeded', 'rolled_back', 'failed', 'superseded'];

/**
 * How a deployment changes, for the service's actions and the rollout driver's decisions alike: a
 * transition (status, event row, Grafana annotation), a canary step, and the groups' desired state
 * published for it. Each runs in the caller's transaction; annotations go out after it commits.
 */
@Injectable()
export class DeploymentTransitions {
  private readonly logger = new Logger('Deployments');
  /** Transitions to copy to the telemetry store (Grafana annotations) once their transaction commits. */
  private annotations: DeploymentEventPoint[] = [];

  constructor(
    private readonly repo: DeploymentsRepository,
    private readonly desired: DesiredStateService,
    private readonly compatibility: DeploymentCompatibility,
    @Optional() @Inject(TELEMETRY_STORE) private readonly telemetry?: TelemetryStore,
  ) {}

  /** Moves a canary to step `index` (a step of the driver, or a promotion) and publishes it. */
  async step(
    m: EntityManager,
    deployment: Deployment,
    index: number,
    actor: string,
    type: 'step' | 'promoted',
    figures: Record<string, unknown>,
  ): Promise<StagedDesired[]> {
    const next = { ...deployment, stepIndex: index, observingSince: null };
    await this.repo.update(m, deployment.id, {
      stepIndex: index,
      stepStartedAt: new Date(),
      observingSince: null,
    });
    await this.repo.event(
      m,
      deployment.id,
      actor,
      type,
      deployment.status,
      deployment.status,
      null,
      {
        ...figures,
        step_index: index,
        percent: deployment.policy.canarySteps[index],
      },
    );
    const groups = await this.repo.groups(m, deployment.id);
    return this.publishAll(m, next, groups, 'new', actor);
  }

  /**
   * Returns the groups to their previous model (a rollback, a failed deployment). A device that
   * cannot run that model keeps what it runs by a hold (DeploymentCompatibility.keepOnRollback),
   * published before the groups' states.
   */
  async rollBackAll(
    m: EntityManager,
    deployment: Deployment,
    groups: DeploymentGroup[],
    actor: string,
  ): Promise<StagedDesired[]> {
    const holds = await this.compatibility.keepOnRollback(
      m,
      deployment.id,
      groups,
      actor,
      deployment.serveAs,
    );
    return [...holds, ...(await this.publishAll(m, deployment, groups, 'previous', actor))];
  }

  async publishAll(
    m: EntityManager,
    deployment: Deployment,
    groups: DeploymentGroup[],
    activate: Activate,
    actor: string,
  ): Promise<StagedDesired[]> {
    const [model] = (await this.repo.models(m, [deployment.modelId])).values();
    if (!model) throw notFound('model', deployment.modelId);
    const previous = await this.repo.models(
      m,
      groups.map((g) => g.previousModelId),
    );
    const staged: StagedDesired[] = [];
    const intents = new Map<string, DesiredIntent>();
    for (const group of groups) {
      const intent = this.intent(
        deployment,
        model,
        previous.get(group.previousModelId ?? '') ?? null,
        activate,
      );
      intents.set(group.groupId, intent);
      staged.push(
        await this.desired.store(
          { kind: 'group', name: group.groupName, serveAs: deployment.serveAs },
          intent,
          actor,
          m,
        ),
      );
    }
    // Devices the hub held follow with their own fallback (DeploymentCompatibility.follow).
    return [
      ...staged,
      ...(await this.compatibility.follow(m, deployment.id, intents, actor, deployment.serveAs)),
    ];
  }

  /** The desired state of a group for the deployment. */
  intent(
    deployment: Deployment,
    model: ModelVersion,
    previous: ModelVersion | null,
    activate: Activate,
  ): Omit<DesiredState, 'seq' | 'issued_at'> {
    const canary = deployment.type === 'canary' && activate !== 'previous';
    const step = canary ? cohortPercent(deployment) : 100;
    // A rate limit tells devices over time (RolloutRate): the cohort holds those told so far. The
    // blue/green cutover is for every device at once.
    const cutover = deployment.type === 'blue-green' && activate === 'new';
    const percent = cutover ? 100 : Math.min(step, deployment.admission?.percent ?? 100);
    const shadow = activate === 'stage' ? deployment.policy.shadow : undefined;
    return {
      deployment_id: deployment.id,
      strategy: deployment.type,
      model: this.desired.modelRef(model),
      previous: previous ? this.desired.modelRef(previous) : null,
      activate: activate === 'new' ? 'new' : 'previous',
      // At 100 % every device is in: no cohort, the same message as a finished blue/green.
      cohort: percent < 100 ? { percent, salt: deployment.cohortSalt } : null,
      ...(shadow
        ? {
            shadow: {
              sample_rate: shadow.sampleRate,
              ...(shadow.queue !== undefined ? { queue: shadow.queue } : {}),
            },
          }
        : {}),

      ...(deployment.policy.maxDeferralS !== undefined
        ? { max_deferral_s: deployment.policy.maxDeferralS }
        : {}),
    };
  }

  async transition(
    m: EntityManager,
    id: string,
    to: DeploymentStatus,
    actor: string,
    why: string,
    figures: Record<string, unknown>,
    extra: Partial<
      Pick<
        Deployment,
        | 'supersededBy'
        | 'pausedFrom'
        | 'stepStartedAt'
        | 'observingSince'
        | 'abortFrom'
        | 'admission'
        | 'shadowSince'
      >
    > = {},
  ): Promise<void> {
    const from = await this.repo.status(m, id);
    const finished = FINISHED.includes(to);
    await this.repo.update(m, id, {
      status: to,
      statusReason: finished || to === 'paused' ? why : null,
      ...(finished ? { finishedAt: new Date() } : {}),
      ...extra,
    });
    if (finished) await this.repo.deactivateGroups(m, id);
    const type = to === 'in_progress' && from === 'staging' ? 'cutover' : to;
    await this.repo.event(m, id, actor, type, from, to, null, { ...figures, why });
    await this.annotate(m, id, type, actor, why);
  }

  /** An event that is no transition (observing, a warning), with its annotation. */
  async note(
    m: EntityManager,
    id: string,
    type: string,
    actor: string,
    why: string,
    figures: Record<string, unknown>,
  ): Promise<void> {
    const status = await this.repo.status(m, id);
    await this.repo.event(m, id, actor, type, status, status, null, { ...figures, why });
    await this.annotate(m, id, type, actor, why);
  }

  private async annotate(
    m: EntityManager,
    id: string,
    type: string,
    actor: string,
    text: string,
  ): Promise<void> {
    if (!this.telemetry) return;
    const row = await this.repo.annotationFacts(m, id);
    this.annotations.push({
      time: new Date(),
      deployment: id,
      type,
      environment: row?.environment ?? 'unknown',
      text,
      model_version: row?.version ?? 'unknown',
      actor,
      groups: row?.groups ?? '',
    });
  }

  /** Copies committed transitions to the telemetry store; a store that is down loses only these. */
  flushAnnotations(): void {
    const batch = this.annotations;
    this.annotations = [];
    if (batch.length === 0 || !this.telemetry) return;
    void this.telemetry
      .writeEvents(batch)
      .catch((error: Error) =>
        this.logger.warn(`could not write deployment annotations: ${error.message}`),
      );
  }
}
