import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { DeploymentJudging, type JudgedDeployment } from '../deployments/deployment-judging.js';
import { versionOf } from '../telemetry/domain/aggregate.js';
import {
  TELEMETRY_STORE,
  type TelemetryStore,
  type VersionAggregate,
} from '../telemetry/telemetry-store.js';
import {
  chooseBaseline,
  evaluateHealth,
  FIRST_JUDGEMENT_GRACE_MS,
  firstJudgementDelay,
} from './domain/health.js';
import { HealthRepository } from './health.repository.js';
import { ShadowJudge } from './shadow-judge.js';
import type { StoredHealth } from './stored-health.js';

export type { StoredHealth } from './stored-health.js';

/** The figures of a step's devices before it, and that window. */
type StepBaselineFigures = { figures: VersionAggregate | null; from: Date; to: Date };

/**
 * The rules loop: every RULES_INTERVAL_S each deployment in progress (and each step just after its
 * warm-up) is judged from the telemetry store: the new version against a baseline (devices outside
 * a canary's cohort, or the same devices before the step). Every evaluation is kept; its verdict goes
 * to the deployments feature (its driver promotes steps and ends observations on it); a degraded one
 * rolls back (or pauses, with auto_rollback off), once. Missing data never rolls back: it holds, and
 * a canary step that stays inconclusive past its timeout is paused.
 */
@Injectable()
export class RulesService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Rules');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  /** Early judgements of steps (the latest timer), by `deployment id:step start`. */
  private readonly firstJudgements = new Map<string, NodeJS.Timeout>();
  /** Baselines taken before steps, by `deployment id:step index` (they never change once taken). */
  private readonly baselines = new Map<string, StepBaselineFigures>();

  constructor(
    private readonly judging: DeploymentJudging,
    private readonly health: HealthRepository,
    private readonly shadow: ShadowJudge,
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
    const deployments = await this.judging.inProgress();
    // Steps judged or being judged early; forget those of deployments no longer in progress.
    const inProgress = new Set(deployments.map((d) => `${d.id}:${d.stepStartedAt.getTime()}`));
    for (const key of this.firstJudgements.keys())
      if (!inProgress.has(key)) this.firstJudgements.delete(key);
    const ids = new Set(deployments.map((d) => d.id));
    for (const key of this.baselines.keys())
      if (!ids.has(key.slice(0, key.indexOf(':')))) this.baselines.delete(key);
    for (const deployment of deployments) {
      if (this.stopped) return;
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
    await this.shadow.evaluateAll(now, () => this.stopped);
  }

  /**
   * A step is judged just after its warm-up when the next regular pass would come later, and again
   * every second while that says "inconclusive" (its first windows are still arriving) until the
   * regular pass is due, so a degradation does not wait up to a whole interval.
   */
  private scheduleFirstJudgement(deployment: JudgedDeployment, now: Date): void {
    const key = `${deployment.id}:${deployment.stepStartedAt.getTime()}`;
    if (this.firstJudgements.has(key)) return;
    const intervalMs = this.config.RULES_INTERVAL_S * 1000;
    const delay = firstJudgementDelay(deployment.stepStartedAt, deployment.policy, now, intervalMs);
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
    const deployment = await this.judging.current(id, stepStartedAt);
    return deployment ? this.evaluateOne(deployment, new Date()) : null;
  }

  async evaluateOne(d: JudgedDeployment, now: Date): Promise<StoredHealth> {
    const { policy } = d;
    // Samples from the first warmup_s of the step are not judged.
    const settled = d.stepStartedAt.getTime() + policy.warmup_s * 1000;
    const from = new Date(Math.max(now.getTime() - policy.window_s * 1000, settled));
    const rows =
      from.getTime() < now.getTime()
        ? await this.store.aggregateByDevice({ deployment: d.id, from, to: now })
        : [];
    const cohort = versionOf(
      d.newVersion,
      rows.filter((r) => r.model_version === d.newVersion),
    );
    const outside = versionOf(
      d.previousVersions.join('+'),
      rows.filter((r) => d.previousVersions.includes(r.model_version) && !d.inStep(r.device)),
    );
    const before = await this.beforeStep(d, now);
    const pick = chooseBaseline({ type: d.type, cohort, outside, before: before.figures, policy });
    const report = evaluateHealth({
      cohort,
      baseline: pick.baseline,
      baselineKind: pick.kind,
      staging: await this.judging.stagingCounts(d.id),
      mapFloor: d.mapFloor,
      policy,
    });
    const stored: StoredHealth = {
      ...report,
      evaluated_at: now.toISOString(),
      stage: d.stage,
      step_index: d.stepIndex,
      baseline_kind: pick.kind,
      window: {
        from: from.toISOString(),
        to: now.toISOString(),
        baseline_from: (pick.kind === 'outside' ? from : before.from).toISOString(),
        baseline_to: (pick.kind === 'outside' ? now : before.to).toISOString(),
      },
      new_version: d.newVersion,
      baseline_versions: d.previousVersions,
      cohort,
      baseline: pick.baseline,
      action: 'none',
    };
    const waited = (now.getTime() - d.stepStartedAt.getTime()) / 1000;
    const figures = () => ({
      verdict: report.verdict,
      checks: report.checks,
      baseline_kind: pick.kind,
      window: stored.window,
    });
    if (report.verdict === 'degraded') {
      stored.action = d.autoRollback ? 'rolled_back' : 'paused';
      stored.id = await this.health.save(d.id, stored);
      await this.judging.recordVerdict(d.id, report.verdict, now);
      const reason = `degraded: ${report.reasons.join('; ')}`;
      try {
        if (d.autoRollback) await this.judging.rollBack(d.id, reason, figures());
        else await this.judging.pause(d.id, `${reason} (auto_rollback is off)`, figures());
        this.logger.warn(`deployment ${d.id} ${stored.action}: ${reason}`);
      } catch (error) {
        // Already rolled back or paused (by a person, or another hub): once is enough.
        this.logger.log(`deployment ${d.id}: no ${stored.action} (${(error as Error).message})`);
      }
      return stored;
    }
    const pause =
      report.verdict === 'inconclusive' &&
      d.type === 'canary' &&
      d.stage === 'rolling_out' &&
      waited > policy.inconclusive_timeout_s;
    if (pause) stored.action = 'paused';
    stored.id = await this.health.save(d.id, stored);
    await this.judging.recordVerdict(d.id, report.verdict, now);
    if (pause) {
      await this.judging
        .pause(
          d.id,
          `inconclusive for ${Math.round(waited)} s: ${report.reasons.join('; ')}`,
          figures(),
        )
        .catch(() => undefined);
    }
    return stored;
  }

  /**
   * The step's devices on the previous version in the window before the step (blue/green: before
   * the deployment, ahead of staging): taken once, at the first evaluation after the warm-up (the
   * windows before have arrived by then), kept in the rules' table (the first hub to take it wins)
   * and here, so later passes neither query the store nor the table for it.
   */
  private async beforeStep(d: JudgedDeployment, now: Date): Promise<StepBaselineFigures> {
    const key = `${d.id}:${d.stepIndex}`;
    const known = this.baselines.get(key);
    if (known) return known;
    const to = d.baselineUntil;
    const from = new Date(to.getTime() - d.policy.window_s * 1000);
    // In the warm-up nothing of the step is judged yet, and late windows from before may be arriving.
    if (now.getTime() < d.stepStartedAt.getTime() + d.policy.warmup_s * 1000) {
      return { figures: null, from, to };
    }
    let kept = await this.health.baseline(d.id, d.stepIndex);
    if (!kept) {
      const rows = await this.store.aggregateByDevice({
        groups: d.groups,
        models: d.previousModelIds,
        from,
        to,
      });
      const figures = versionOf(
        d.previousVersions.join('+'),
        rows.filter((r) => d.previousVersions.includes(r.model_version) && d.inStep(r.device)),
      );
      await this.health.saveBaseline(d.id, d.stepIndex, from, to, figures);
      kept = (await this.health.baseline(d.id, d.stepIndex)) ?? { figures, from, to };
    }
    this.baselines.set(key, kept);
    return kept;
  }

  /**
   * The latest evaluation; for a finished deployment, the last one before it finished. Undefined
   * for an unknown deployment, null before its first evaluation.
   */
  async latest(deploymentId: string): Promise<StoredHealth | null | undefined> {
    const finishedAt = await this.judging.finishedAt(deploymentId);
    if (finishedAt === undefined) return undefined;
    return this.health.latest(deploymentId, finishedAt);
  }

  /** Every evaluation, newest first; undefined for an unknown deployment. */
  async history(deploymentId: string, limit: number, offset: number) {
    if ((await this.judging.finishedAt(deploymentId)) === undefined) return undefined;
    return this.health.history(deploymentId, limit, offset);
  }
}
