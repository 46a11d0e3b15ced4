import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { Deployment } from '../deployments/deployment.entity.js';
import { DeploymentsService } from '../deployments/deployments.service.js';
import {
  TELEMETRY_STORE,
  type TelemetryStore,
  type VersionAggregate,
} from '../telemetry/telemetry-store.js';
import {
  evaluateHealth,
  FIRST_JUDGEMENT_GRACE_MS,
  firstJudgementDelay,
  rulesPolicy,
  type HealthReport,
  type VersionFigures,
} from './domain/health.js';

/** The stored evaluation: what GET /deployments/:id/health and the CLI show. */
export interface StoredHealth extends HealthReport {
  evaluated_at: string;
  window: { from: string; to: string; baseline_from: string; baseline_to: string };
  new_version: string;
  baseline_versions: string[];
  cohort: VersionFigures | null;
  baseline: VersionFigures | null;
  action: 'none' | 'rolled_back' | 'paused';
}

const RULES_ACTOR = 'rules';

/**
 * The rules loop: every RULES_INTERVAL_S each deployment in progress is evaluated from the
 * telemetry store (new version against the previous one), the result is stored on the deployment
 * (the deployments loop reads it to promote canary steps), and a degraded verdict rolls the
 * deployment back once, with the figures in its event. Missing data never rolls back: it holds,
 * and a canary that stays inconclusive past its timeout is paused.
 */
@Injectable()
export class RulesService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Rules');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  /** Early judgements of steps (the latest timer), by `deployment id:step start`. */
  private readonly firstJudgements = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly deployments: DeploymentsService,
    @Inject(TELEMETRY_STORE) private readonly store: TelemetryStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.running || this.stopped) return;
      this.running = this.evaluateAll()
        .catch((error: Error) => this.logger.error(`rules evaluation failed: ${error.message}`))
        .finally(() => (this.running = undefined));
    }, this.config.RULES_INTERVAL_S * 1000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const timer of this.firstJudgements.values()) clearTimeout(timer);
    await this.running;
  }

  async evaluateAll(now = new Date()): Promise<void> {
    const deployments = await this.dataSource
      .getRepository(Deployment)
      .find({ where: { status: 'in_progress' } });
    // Steps judged or being judged early; forget those of deployments no longer in progress.
    const inProgress = new Set(deployments.map((d) => `${d.id}:${d.stepStartedAt.getTime()}`));
    for (const key of this.firstJudgements.keys())
      if (!inProgress.has(key)) this.firstJudgements.delete(key);
    for (const deployment of deployments) {
      if (this.stopped) return;
      if (deployment.rules?.enabled === false) continue;
      try {
        this.scheduleFirstJudgement(deployment, now);
        await this.evaluateOne(deployment, now);
      } catch (error) {
        // A store that is down gives no figures: nothing is decided (never a rollback on missing data).
        this.logger.warn(
          `deployment ${deployment.id}: no evaluation (${(error as Error).message})`,
        );
      }
    }
  }

  /**
   * A step is judged just after its warm-up when the next regular pass would come later, and again
   * every second while that says "inconclusive" (its first windows are still arriving) until the
   * regular pass is due, so a degradation does not wait up to a whole interval (bench/rollback:
   * 0-10 s of its 6-12 s).
   */
  private scheduleFirstJudgement(deployment: Deployment, now: Date): void {
    const key = `${deployment.id}:${deployment.stepStartedAt.getTime()}`;
    if (this.firstJudgements.has(key)) return;
    const intervalMs = this.config.RULES_INTERVAL_S * 1000;
    const delay = firstJudgementDelay(
      deployment.stepStartedAt,
      rulesPolicy(deployment.rules),
      now,
      intervalMs,
    );
    if (delay === null) return;
    const until = now.getTime() + intervalMs;
    const attempt = (wait: number) => {
      const timer = setTimeout(() => {
        if (this.stopped) return;
        void this.judgeNow(deployment.id, deployment.stepStartedAt)
          .then((health) => {
            const again = Date.now() + FIRST_JUDGEMENT_GRACE_MS;
            if (health?.verdict === 'inconclusive' && again < until)
              attempt(FIRST_JUDGEMENT_GRACE_MS);
          })
          .catch((error: Error) =>
            this.logger.warn(`deployment ${deployment.id}: no evaluation (${error.message})`),
          );
      }, wait);
      timer.unref();
      this.firstJudgements.set(key, timer);
    };
    attempt(delay);
  }

  /** Evaluates the deployment now if it is still in progress on the same step. */
  private async judgeNow(id: string, stepStartedAt: Date): Promise<StoredHealth | null> {
    const deployment = await this.dataSource
      .getRepository(Deployment)
      .findOne({ where: { id, status: 'in_progress' } });
    if (!deployment || deployment.stepStartedAt.getTime() !== stepStartedAt.getTime()) return null;
    return this.evaluateOne(deployment, new Date());
  }

  async evaluateOne(deployment: Deployment, now: Date): Promise<StoredHealth> {
    const policy = rulesPolicy(deployment.rules);
    const [versions]: { new_version: string; previous: string[]; map_floor: unknown }[] =
      await this.dataSource.query(
        `SELECT mv.version AS new_version, mv.metadata->'map_floor' AS map_floor,
              COALESCE(array_agg(DISTINCT pv.version) FILTER (WHERE pv.version IS NOT NULL), '{}') AS previous
         FROM deployments d
         JOIN model_versions mv ON mv.id = d.model_id
         LEFT JOIN deployment_groups g ON g.deployment_id = d.id
         LEFT JOIN model_versions pv ON pv.id = g.previous_model_id
        WHERE d.id = $1
        GROUP BY mv.version, mv.metadata`,
        [deployment.id],
      );
    // Samples from the first warmup_s of the step are not judged.
    const settled = deployment.stepStartedAt.getTime() + policy.warmup_s * 1000;
    const from = new Date(Math.max(now.getTime() - policy.window_s * 1000, settled));
    const current =
      from.getTime() < now.getTime()
        ? await this.store.aggregateByVersion({ deployment: deployment.id, from, to: now })
        : [];
    // Canary: the previous version on the other devices, in the same window. Blue/green: the same
    // devices on the previous version, in the window before the cutover.
    const baselineWindow =
      deployment.type === 'canary'
        ? { from, to: now }
        : {
            from: new Date(deployment.stepStartedAt.getTime() - policy.window_s * 1000),
            to: deployment.stepStartedAt,
          };
    const before =
      deployment.type === 'canary'
        ? current
        : await this.store.aggregateByVersion({ deployment: deployment.id, ...baselineWindow });
    const cohort = current.find((a) => a.model_version === versions!.new_version) ?? null;
    const baseline = merge(before.filter((a) => versions!.previous.includes(a.model_version)));
    const [staging]: { failed: string; total: string }[] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE phase = 'failed') AS failed, count(*) AS total
         FROM deployment_devices WHERE deployment_id = $1 AND in_cohort IS NOT FALSE`,
      [deployment.id],
    );
    const mapFloor = typeof versions!.map_floor === 'number' ? versions!.map_floor : null;
    const report = evaluateHealth({
      cohort,
      baseline,
      staging: { failed: Number(staging!.failed), total: Number(staging!.total) },
      mapFloor,
      policy,
    });
    const stored: StoredHealth = {
      ...report,
      evaluated_at: now.toISOString(),
      window: {
        from: from.toISOString(),
        to: now.toISOString(),
        baseline_from: baselineWindow.from.toISOString(),
        baseline_to: baselineWindow.to.toISOString(),
      },
      new_version: versions!.new_version,
      baseline_versions: versions!.previous,
      cohort,
      baseline,
      action: 'none',
    };

    if (report.verdict === 'degraded' && deployment.autoRollback) {
      stored.action = 'rolled_back';
      await this.save(deployment.id, stored);
      const reason = `degraded: ${report.reasons.join('; ')}`;
      try {
        await this.deployments.actAs(deployment.id, 'rollback', RULES_ACTOR, reason, {
          verdict: report.verdict,
          checks: report.checks,
          cohort,
          baseline,
          window: stored.window,
        });
        this.logger.warn(`deployment ${deployment.id} rolled back: ${reason}`);
      } catch (error) {
        // Already rolled back (by a person, or another hub): once is enough.
        this.logger.log(`deployment ${deployment.id}: no rollback (${(error as Error).message})`);
      }
      return stored;
    }
    const waited = (now.getTime() - deployment.stepStartedAt.getTime()) / 1000;
    if (
      report.verdict === 'inconclusive' &&
      deployment.type === 'canary' &&
      waited > policy.inconclusive_timeout_s
    ) {
      stored.action = 'paused';
      await this.save(deployment.id, stored);
      await this.deployments
        .actAs(
          deployment.id,
          'pause',
          RULES_ACTOR,
          `inconclusive for ${Math.round(waited)} s: ${report.reasons.join('; ')}`,
        )
        .catch(() => undefined);
      return stored;
    }
    await this.save(deployment.id, stored);
    return stored;
  }

  async exists(deploymentId: string): Promise<boolean> {
    return this.dataSource.getRepository(Deployment).exists({ where: { id: deploymentId } });
  }

  async latest(deploymentId: string): Promise<StoredHealth | null> {
    const row = await this.dataSource
      .getRepository(Deployment)
      .findOne({ where: { id: deploymentId } });
    if (!row) return null;
    return (row.health as unknown as StoredHealth | null) ?? null;
  }

  private async save(id: string, health: StoredHealth): Promise<void> {
    await this.dataSource.query('UPDATE deployments SET health = $2 WHERE id = $1', [
      id,
      JSON.stringify(health),
    ]);
  }
}

/** Several baseline versions (groups that ran different models) as one: device-weighted means. */
function merge(aggregates: VersionAggregate[]): VersionFigures | null {
  if (aggregates.length === 0) return null;
  if (aggregates.length === 1) return aggregates[0]!;
  const devices = aggregates.reduce((a, v) => a + v.devices, 0);
  const weighted = (pick: (v: VersionAggregate) => number) =>
    aggregates.reduce((a, v) => a + pick(v) * v.devices, 0) / devices;
  const maps = aggregates.filter((v) => v.map !== null);
  return {
    model_version: aggregates.map((v) => v.model_version).join('+'),
    devices,
    samples: aggregates.reduce((a, v) => a + v.samples, 0),
    fps: weighted((v) => v.fps),
    latency_p95: weighted((v) => v.latency_p95),
    memory_mb: weighted((v) => v.memory_mb),
    frames: aggregates.reduce((a, v) => a + v.frames, 0),
    errors: aggregates.reduce((a, v) => a + v.errors, 0),
    map: maps.length
      ? maps.reduce((a, v) => a + v.map! * v.devices, 0) / maps.reduce((a, v) => a + v.devices, 0)
      : null,
  };
}
