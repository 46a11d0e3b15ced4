import { Injectable } from '@nestjs/common';
import { inCohort } from '@sentinel/broker';
import { DeploymentEvents } from './deployment-events.js';
import { DeploymentsRepository } from './deployments.repository.js';
import { DeploymentActions } from './deployment-actions.js';
import type { Deployment } from './deployment.entity.js';
import { cohortPercent, type HealthVerdict } from './domain/rollout.js';
import { stageOf } from './domain/status.js';
import { rulesPolicy, type RulesPolicy } from './domain/rules-policy.js';

/** What the rules module needs to judge a deployment in progress. */
export interface JudgedDeployment {
  id: string;
  type: Deployment['type'];
  stepIndex: number;
  /** When the step (canary) or the cutover (blue/green) began; resumed: when it resumed. */
  stepStartedAt: Date;
  /**
   * The end of the window a before-the-step baseline is taken from: the step start for a canary;
   * for blue/green the deployment's creation, since staging (downloads, loading the standby slot)
   * loads the devices and would flatter the new version.
   */
  baselineUntil: Date;
  stage: 'rolling_out' | 'observing';
  policy: RulesPolicy;
  autoRollback: boolean;
  newVersion: string;
  /** The model versions the groups ran before (what the baseline runs). */
  previousVersions: string[];
  /**
   * Their ids: a device serving several named models sends windows of each, and a detector and a
   * classifier may share a version string.
   */
  previousModelIds: string[];
  groups: string[];
  /** The new version's mAP floor (its metadata `map_floor`), 0..1. */
  mapFloor: number | null;
  /** Whether a device takes part in the current step (its cohort; every device for blue/green). */
  inStep(deviceId: string): boolean;
}

/** A deployment in its shadow phase, as the rules judge it (rules/domain/shadow.ts). */
export interface ShadowedDeployment {
  id: string;
  shadowSince: Date;
  policy: RulesPolicy;
  autoRollback: boolean;
  minAgreement: number;
  newVersion: string;
  previousVersions: string[];
}

/**
 * The deployments feature's port for the rules module, one direction (rules -> deployments): the
 * deployments in progress, what the rules found (a verdict the rollout driver acts on), and the
 * rules' actions (roll back, pause). The rules keep their own figures in their own tables.
 */
@Injectable()
export class DeploymentJudging {
  constructor(
    private readonly repo: DeploymentsRepository,
    private readonly actions: DeploymentActions,
    private readonly events: DeploymentEvents,
  ) {}

  /** Deployments in their shadow phase whose rules are on: what the shadow judge evaluates. */
  async shadowing(): Promise<ShadowedDeployment[]> {
    const rows = await this.repo.findByStatus('staging');
    const shadowing = rows.filter(
      (d) => d.shadowSince !== null && d.policy.shadow && d.rules?.enabled !== false,
    );
    return Promise.all(
      shadowing.map(async (d) => ({
        id: d.id,
        shadowSince: d.shadowSince!,
        policy: rulesPolicy(d.rules),
        autoRollback: d.autoRollback,
        minAgreement: d.policy.shadow!.minAgreement,
        ...(await this.versions(d)),
      })),
    );
  }

  /** The deployment's groups, its new version and what its groups ran before. */
  private async versions(d: Deployment) {
    const groups = await this.repo.groups(this.repo.dataSource, d.id);
    const models = await this.repo.models(this.repo.dataSource, [
      d.modelId,
      ...groups.map((g) => g.previousModelId),
    ]);
    const model = models.get(d.modelId);
    const previousVersions = [
      ...new Set(
        groups.flatMap((g) => {
          const v = g.previousModelId ? models.get(g.previousModelId)?.version : undefined;
          return v ? [v] : [];
        }),
      ),
    ];
    const previousModelIds = [
      ...new Set(groups.flatMap((g) => (g.previousModelId ? [g.previousModelId] : []))),
    ];
    return { groups, model, newVersion: model?.version ?? '', previousVersions, previousModelIds };
  }

  async inProgress(): Promise<JudgedDeployment[]> {
    const rows = await this.repo.findByStatus('in_progress');
    return Promise.all(rows.filter((d) => d.rules?.enabled !== false).map((d) => this.judged(d)));
  }

  /** The deployment if it is still in progress on the same step start, else null. */
  async current(id: string, stepStartedAt: Date): Promise<JudgedDeployment | null> {
    const d = await this.repo.find(id);
    if (!d || d.status !== 'in_progress' || d.stepStartedAt.getTime() !== stepStartedAt.getTime()) {
      return null;
    }
    return this.judged(d);
  }

  /**
   * Whether the deployment exists and when it finished (its last verdict is the one that decided),
   * null while active; undefined for an unknown deployment.
   */
  async finishedAt(id: string): Promise<Date | null | undefined> {
    const d = await this.repo.find(id);
    return d ? d.finishedAt : undefined;
  }

  stagingCounts(id: string): Promise<{ failed: number; total: number }> {
    return this.repo.stagingCounts(id);
  }

  /** The rules' verdict on the current step: what promotes a canary step or ends an observation. */
  async recordVerdict(id: string, verdict: HealthVerdict, at: Date): Promise<void> {
    await this.repo.update(this.repo.dataSource, id, { verdict, verdictAt: at });
    // The live page shows the verdict: tell it (the status as it is now).
    const deployment = await this.repo.find(id);
    if (deployment) this.events.emit('deployment.changed', { id, status: deployment.status });
  }

  async rollBack(id: string, reason: string, figures: Record<string, unknown>): Promise<void> {
    await this.actions.actAs(id, 'rollback', 'rules', reason, figures);
  }

  async pause(id: string, reason: string, figures: Record<string, unknown>): Promise<void> {
    await this.actions.actAs(id, 'pause', 'rules', reason, figures);
  }

  private async judged(d: Deployment): Promise<JudgedDeployment> {
    const { groups, model, newVersion, previousVersions, previousModelIds } =
      await this.versions(d);
    const floor = (model?.metadata as { map_floor?: unknown } | undefined)?.map_floor;
    const percent = cohortPercent(d);
    return {
      id: d.id,
      type: d.type,
      stepIndex: d.stepIndex,
      stepStartedAt: d.stepStartedAt,
      baselineUntil: d.type === 'blue-green' ? d.createdAt : d.stepStartedAt,
      stage: stageOf(d) === 'observing' ? 'observing' : 'rolling_out',
      policy: rulesPolicy(d.rules),
      autoRollback: d.autoRollback,
      newVersion,
      previousVersions,
      previousModelIds,
      groups: groups.map((g) => g.groupName),
      mapFloor: typeof floor === 'number' ? floor : null,
      inStep: (deviceId) =>
        d.type !== 'canary' ||
        percent >= 100 ||
        inCohort(deviceId, { percent, salt: d.cohortSalt }),
    };
  }
}
