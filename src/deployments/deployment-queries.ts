import { Injectable } from '@nestjs/common';
import { notFound } from '../common/domain-error.js';
import type {
  DeploymentDetail,
  DeploymentListQuery,
  DeploymentSummary,
} from './deployment-views.js';
import { DeploymentsRepository } from './deployments.repository.js';
import { viewOf } from './domain/policy.js';
import { evaluate } from './domain/rollout.js';

/** The read side of deployments: lists, summaries, and a deployment's detail with its progress. */
@Injectable()
export class DeploymentQueries {
  constructor(private readonly repo: DeploymentsRepository) {}

  async list(
    query: DeploymentListQuery,
  ): Promise<{ items: DeploymentSummary[]; total: number; limit: number; offset: number }> {
    const { ids, total } = await this.repo.page(query);
    return {
      items: await this.summaries(ids),
      total,
      limit: query.limit ?? 50,
      offset: query.offset ?? 0,
    };
  }

  async summary(id: string): Promise<DeploymentSummary> {
    const [summary] = await this.summaries([id]);
    if (!summary) throw notFound('deployment', id);
    return summary;
  }

  /** Summaries in the order of `ids` (unknown ids left out): three queries, whatever the count. */
  private async summaries(ids: string[]): Promise<DeploymentSummary[]> {
    if (ids.length === 0) return [];
    const deployments = await this.repo.findMany(ids);
    const models = await this.repo.models(
      this.repo.dataSource,
      deployments.map((d) => d.modelId),
    );
    const groups = await this.repo.groupsOf(ids);
    const byId = new Map(deployments.map((d) => [d.id, d]));
    return ids.flatMap((id) => {
      const deployment = byId.get(id);
      const model = deployment && models.get(deployment.modelId);
      if (!deployment || !model) return [];
      return [
        {
          deployment,
          model: { id: model.id, name: model.name, version: model.version },
          groups: groups.filter((g) => g.deploymentId === id),
        },
      ];
    });
  }

  async detail(id: string): Promise<DeploymentDetail> {
    const summary = await this.summary(id);
    const devices = await this.repo.deviceViews(this.repo.dataSource, id);
    const { counts } = evaluate(viewOf(summary.deployment), devices, new Date());
    const failed = await this.repo.failedDevices(id);
    const deferred = await this.repo.deferredDevices(id);
    const skipped = await this.repo.skippedDevices(id);
    return {
      ...summary,
      progress: {
        targets: counts.targets,
        online: counts.online,
        participating: counts.participating,
        phases: counts.byPhase,
        failed_devices: failed.map((f) => ({ ...f, attempts: Number(f.attempts) })),
        deferred_devices: deferred.map((d) => ({
          device_id: d.device_id,
          reason: d.reason,
          detail: d.detail,
          since: new Date(d.phase_since).toISOString(),
        })),
        skipped_devices: skipped,
      },
      events: await this.repo.events(id),
    };
  }
}
