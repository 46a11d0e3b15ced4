import { Inject, Injectable, Logger } from '@nestjs/common';
import { DeploymentJudging, type ShadowedDeployment } from '../deployments/deployment-judging.js';
import { TELEMETRY_STORE, type TelemetryStore } from '../telemetry/telemetry-store.js';
import { evaluateShadow, shadowFiguresOf } from './domain/shadow.js';
import { HealthRepository } from './health.repository.js';
import type { StoredHealth } from './stored-health.js';

/**
 * The rules for deployments in their shadow phase: the candidate's shadow figures since the phase
 * began (after the warm-up) are judged against the serving model on the same inputs
 * (domain/shadow.ts). Each evaluation is kept with the others (stage `shadow`), its verdict goes to
 * the deployments feature (its driver cuts over on a healthy one at the end of the phase), and a
 * degraded one stops the deployment before any device serves the candidate: a rollback (the
 * devices drop nothing they serve), or a pause with auto_rollback off.
 */
@Injectable()
export class ShadowJudge {
  private readonly logger = new Logger('Rules');

  constructor(
    private readonly judging: DeploymentJudging,
    private readonly health: HealthRepository,
    @Inject(TELEMETRY_STORE) private readonly store: TelemetryStore,
  ) {}

  async evaluateAll(now: Date, stopped: () => boolean): Promise<void> {
    for (const deployment of await this.judging.shadowing()) {
      if (stopped()) return;
      try {
        await this.evaluateOne(deployment, now);
      } catch (error) {
        this.logger.warn(
          `deployment ${deployment.id}: no shadow evaluation (${(error as Error).message})`,
        );
      }
    }
  }

  async evaluateOne(d: ShadowedDeployment, now: Date): Promise<StoredHealth> {
    const from = new Date(d.shadowSince.getTime() + d.policy.warmup_s * 1000);
    const rows =
      from.getTime() < now.getTime()
        ? await this.store.aggregateShadow({ deployment: d.id, from, to: now })
        : [];
    const figures = shadowFiguresOf(d.newVersion, rows);
    const report = evaluateShadow({ figures, policy: d.policy, minAgreement: d.minAgreement });
    const window = { from: from.toISOString(), to: now.toISOString() };
    const stored: StoredHealth = {
      ...report,
      evaluated_at: now.toISOString(),
      stage: 'shadow',
      step_index: 0,
      baseline_kind: 'shadow',
      window: { ...window, baseline_from: window.from, baseline_to: window.to },
      new_version: d.newVersion,
      baseline_versions: d.previousVersions,
      cohort: null,
      baseline: null,
      shadow: figures,
      action: 'none',
    };
    if (report.verdict === 'degraded') stored.action = d.autoRollback ? 'rolled_back' : 'paused';
    stored.id = await this.health.save(d.id, stored);
    await this.judging.recordVerdict(d.id, report.verdict, now);
    if (report.verdict !== 'degraded') return stored;
    const reason = `shadow verification degraded: ${report.reasons.join('; ')}`;
    const facts = { verdict: report.verdict, checks: report.checks, window, shadow: figures };
    try {
      if (d.autoRollback) await this.judging.rollBack(d.id, reason, facts);
      else await this.judging.pause(d.id, `${reason} (auto_rollback is off)`, facts);
      this.logger.warn(`deployment ${d.id} ${stored.action}: ${reason}`);
    } catch (error) {
      // Already stopped (by a person, or another hub): once is enough.
      this.logger.log(`deployment ${d.id}: no ${stored.action} (${(error as Error).message})`);
    }
    return stored;
  }
}
