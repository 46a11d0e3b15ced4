import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DEFAULT_MODEL_NAME, deviceCommandsTopic, encodeMessage } from '@sentinel/broker';
import { BrokerService } from '../broker/broker.service.js';
import { DesiredStateService, type StagedDesired } from '../broker/desired-state.service.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { FleetEvents } from '../fleet/fleet-events.js';
import { latestPerDevice, type DeviceStateReport } from '../fleet/domain/state-reports.js';
import { DeploymentEvents } from './deployment-events.js';
import { DeploymentTargets } from './deployment-targets.js';
import { DeploymentsRepository } from './deployments.repository.js';
import type { EntityManager } from 'typeorm';
import type { Deployment } from './deployment.entity.js';
import { DeploymentTransitions } from './deployment-transitions.js';
import { DeploymentsService } from './deployments.service.js';
import { ProgressViews } from './progress-views.js';
import { RolloutRate } from './rollout-rate.js';
import { figuresOf, healthVerdictOf, stagesFirst, viewOf } from './domain/policy.js';
import { progressRows, progressSignature } from './domain/progress-reports.js';
import { ACTIVE_STATUSES, evaluate } from './domain/rollout.js';
import { notificationHold } from './domain/schedule.js';

/** The status a decision leaves a deployment in (the others keep it). */
const AFTER: Partial<Record<string, string>> = {
  cutover: 'in_progress',
  succeed: 'succeeded',
  pause: 'paused',
  fail: 'failed',
};

/** How long after it ends a deployment's device reports are still recorded (a rollback landing). */
const TRACK_FINISHED_S = 600;

/** How often an evaluation reads its devices in full rather than follow them (ProgressViews). */
const FULL_READ_EVERY_MS = 10_000;

/**
 * Drives active deployments: a loop evaluates each one (domain/rollout.ts decides) on a timer, as
 * device reports arrive and after actions, and applies the decision through DeploymentsService.
 * State lives in the database only, so a restarted hub, or another hub, continues where the last
 * evaluation left off; a row lock (SKIP LOCKED) keeps two hubs from evaluating one at once.
 */
@Injectable()
export class RolloutDriver implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Rollout');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private soon?: NodeJS.Timeout;
  private activeIds = new Set<string>();
  /** Active deployments, and those finished lately: devices still report how they got there. */
  private trackedIds = new Set<string>();
  private justCreated = new Set<string>();
  /**
   * Whether every group of a deployment ran a model before it (else there is no baseline to judge
   * against nor to roll back to): fixed at creation, so asked once per deployment.
   */
  private readonly judgeable = new Map<string, boolean>();
  private recording: Promise<void> = Promise.resolve();
  private unsubscribe?: () => void;
  private stopped = false;
  /**
   * The devices of the deployments evaluated, followed from this hub's writes; one hub (no Redis)
   * writes every report, else each hub writes its own devices' and the views are read each time.
   */
  private readonly views: ProgressViews;

  constructor(
    private readonly repo: DeploymentsRepository,
    private readonly deployments: DeploymentsService,
    private readonly transitions: DeploymentTransitions,
    private readonly desired: DesiredStateService,
    private readonly broker: BrokerService,
    private readonly fleetEvents: FleetEvents,
    private readonly events: DeploymentEvents,
    private readonly targets: DeploymentTargets,
    private readonly rate: RolloutRate,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.views = new ProgressViews(!config.REDIS_URL, FULL_READ_EVERY_MS);
    this.deployments.onChange(({ id, kind }) => {
      // An action may change devices' progress (a retry, a rollback): read them again.
      this.views.invalidate(id);
      if (kind === 'created') {
        this.activeIds.add(id);
        this.trackedIds.add(id);
        this.justCreated.add(id);
      }
      if (kind === 'rollback')
        this.activeIds.delete(id); // its progress is still recorded
      else this.evaluateSoon(0);
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    this.unsubscribe = this.fleetEvents.on('device.reports', ({ reports }) => {
      this.views.applyOnline(
        latestPerDevice(reports).map((r) => ({ deviceId: r.deviceId, online: r.online })),
      );
      // One batch after another: out of order, an older report could overwrite a newer one.
      this.recording = this.recording
        .then(() => this.recordReports(reports))
        .catch((error: Error) =>
          this.logger.error(`could not record deployment progress: ${error.message}`),
        );
    });
    await this.refreshActive();
    this.timer = setInterval(() => this.evaluateSoon(0), this.config.ROLLOUT_INTERVAL_MS);
    this.timer.unref();
    this.evaluateSoon(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    if (this.soon) clearTimeout(this.soon);
    await this.running?.catch(() => undefined);
  }

  /** Evaluates every active deployment after `delayMs`; calls while one runs are merged. */
  evaluateSoon(delayMs: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (delayMs > 0) {
      this.soon ??= setTimeout(() => {
        this.soon = undefined;
        this.evaluateSoon(0);
      }, delayMs);
      return;
    }
    this.running = this.evaluateAll()
      .catch((error: Error) => this.logger.error(`evaluation failed: ${error.message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.evaluateSoon(0);
        }
      });
  }

  /** Runs one evaluation pass now (tests and the loop). */
  async evaluateAll(): Promise<void> {
    await this.refreshActive();
    for (const id of this.activeIds) {
      if (this.stopped) return;
      await this.evaluateOne(id);
    }
  }

  private async refreshActive(): Promise<void> {
    const rows = await this.repo.recent(ACTIVE_STATUSES, TRACK_FINISHED_S);
    const active = new Set(rows.filter((r) => r.active).map((r) => r.id));
    // Created meanwhile (this query may have started before its commit).
    for (const id of this.activeIds) if (this.justCreated.has(id)) active.add(id);
    this.justCreated.clear();
    this.activeIds = active;
    this.trackedIds = new Set([...active, ...rows.map((r) => r.id)]);
    this.views.retain(active, this.trackedIds);
    for (const id of this.judgeable.keys()) if (!active.has(id)) this.judgeable.delete(id);
  }

  /**
   * Whether an evaluation would only wait (nothing to write, publish or time out), found from the
   * deployment's row and the followed views without a transaction: most passes during a rollout.
   * Anything else (or views not followed, a pending or rate-limited deployment) takes the locked path.
   */
  private async onlyWaits(id: string): Promise<boolean> {
    const judgeable = this.judgeable.get(id);
    if (!this.views.following || judgeable === undefined) return false;
    const deployment = await this.repo.find(id);
    if (!deployment || deployment.status === 'pending' || deployment.policy.rate) return false;
    if (!ACTIVE_STATUSES.includes(deployment.status)) return true;
    const devices = await this.views.get(id, () => this.repo.deviceViews(this.repo.dataSource, id));
    const now = new Date();
    const verdict = judgeable
      ? healthVerdictOf(deployment, now, this.config.RULES_INTERVAL_S)
      : null;
    const result = evaluate(viewOf(deployment), devices, now, verdict);
    return result.decision.kind === 'wait' && result.timeouts.length + result.retries.length === 0;
  }

  private async evaluateOne(id: string): Promise<void> {
    if (await this.onlyWaits(id)) return;
    const staged: StagedDesired[] = [];
    let reloads: string[] = [];
    /** The status after this evaluation when it changed anything, for the live events. */
    let changed: string | null = null;
    await this.repo.transaction(async (m) => {
      const deployment = await this.repo.lock(m, id, true);
      if (!deployment || !ACTIVE_STATUSES.includes(deployment.status)) return;
      const now = new Date();
      // A scheduled start, or a group outside its maintenance window, holds new notifications;
      // asked only when a step would notify devices (the windows are a query).
      const holdNow = async () =>
        notificationHold(deployment.startAt ?? null, await this.targets.groupWindows(m, id), now);
      if (deployment.status === 'pending') {
        const started = await this.start(m, deployment, await holdNow(), now);
        staged.push(...started);
        if (started.length > 0)
          changed = stagesFirst(deployment.policy, deployment.type) ? 'staging' : 'in_progress';
        return;
      }
      const devices = await this.views.get(id, () => this.repo.deviceViews(m, id));
      // A rate limit tells more devices as its pace allows (a window or schedule holds it too).
      staged.push(...(await this.rate.notifyMore(m, deployment, devices, holdNow, now)));
      let judgeable = this.judgeable.get(id);
      if (judgeable === undefined) {
        judgeable = (await this.repo.groups(m, id)).every((g) => g.previousModelId !== null);
        this.judgeable.set(id, judgeable);
      }
      const verdict = judgeable
        ? healthVerdictOf(deployment, now, this.config.RULES_INTERVAL_S)
        : null;
      const result = evaluate(viewOf(deployment), devices, now, verdict);
      if (result.timeouts.length + result.retries.length > 0)
        this.views.invalidate(id, [...result.timeouts, ...result.retries]);
      if (result.timeouts.length > 0) {
        const timeoutS = deployment.policy.deviceTimeoutS;
        await this.repo.markTimedOut(m, id, result.timeouts, now, timeoutS);
        for (const device of result.timeouts) {
          await this.repo.event(m, id, 'hub', 'device.timeout', null, 'failed', device, {
            timeout_s: timeoutS,
          });
        }
      }
      if (result.retries.length > 0) {
        await this.repo.markRetried(m, id, result.retries, now);
        for (const device of result.retries)
          await this.repo.event(m, id, 'hub', 'device.retry', 'failed', 'notified', device, {});
        reloads = result.retries;
      }
      const decision = result.decision;
      const figures = figuresOf(result.counts, decision.why);
      const service = this.transitions;
      // Rollbacks and failures go on; a step that notifies devices waits for the window.
      const hold =
        decision.kind === 'cutover' || decision.kind === 'advance' ? await holdNow() : null;
      if (hold) {
        if (deployment.statusReason !== hold) await this.repo.update(m, id, { statusReason: hold });
        changed = deployment.status;
        return;
      }
      changed = AFTER[decision.kind] ?? deployment.status;
      switch (decision.kind) {
        case 'wait':
          changed =
            result.timeouts.length + result.retries.length + staged.length > 0
              ? deployment.status
              : null;
          return;
        case 'cutover': {
          await service.transition(m, id, 'in_progress', 'hub', decision.why, figures, {
            stepStartedAt: now,
          });
          const groups = await this.repo.groups(m, id);
          staged.push(...(await service.publishAll(m, deployment, groups, 'new', 'hub')));
          break;
        }
        case 'advance':
          staged.push(
            ...(await service.step(m, deployment, decision.stepIndex, 'hub', 'step', figures)),
          );
          break;
        case 'shadow':
          await this.repo.update(m, id, { shadowSince: now });
          await service.note(m, id, 'shadow', 'hub', decision.why, {
            ...figures,
            duration_s: deployment.policy.shadow?.durationS ?? 0,
          });
          break;
        case 'observe':
          await this.repo.update(m, id, { observingSince: now });
          await service.note(m, id, 'observing', 'hub', decision.why, {
            ...figures,
            observe_s: deployment.policy.observeS ?? 0,
          });
          break;
        case 'succeed':
          if (decision.warning) {
            await service.note(m, id, 'warning', 'hub', decision.warning, {});
          }
          await service.transition(m, id, 'succeeded', 'hub', decision.why, {
            ...figures,
            verdict: verdict,
            verdict_at: deployment.verdictAt?.toISOString() ?? null,
          });
          break;
        case 'pause':
          await service.transition(m, id, 'paused', 'hub', decision.why, figures, {
            pausedFrom: deployment.status,
          });
          break;
        case 'fail': {
          await service.transition(
            m,
            id,
            'failed',
            'hub',
            `${decision.reason}: ${decision.why}`,
            figures,
          );
          // Devices that swapped go back; the others never left the previous model.
          const groups = await this.repo.groups(m, id);
          if (groups.every((g) => g.previousModelId !== null)) {
            staged.push(...(await service.rollBackAll(m, deployment, groups, 'hub')));
          }
          break;
        }
      }
    });
    this.transitions.flushAnnotations();
    // Publishing may write devices' rows (a device held back earlier follows): read them again.
    if (staged.length > 0) this.views.invalidate(id);
    if (changed) this.events.emit('deployment.changed', { id, status: changed });
    await this.desired.send(staged);
    for (const device of reloads) await this.sendCommand(device, 'reload', id);
  }

  /** A pending deployment starts (publishes as its creation would have) once nothing holds it. */
  private async start(
    m: EntityManager,
    deployment: Deployment,
    hold: string | null,
    now: Date,
  ): Promise<StagedDesired[]> {
    if (hold) {
      if (deployment.statusReason !== hold)
        await this.repo.update(m, deployment.id, { statusReason: hold });
      return [];
    }
    const staging = stagesFirst(deployment.policy, deployment.type);
    const why = deployment.startAt
      ? `started: scheduled for ${deployment.startAt.toISOString()}`
      : 'started: the maintenance windows are open';
    await this.transitions.transition(
      m,
      deployment.id,
      staging ? 'staging' : 'in_progress',
      'hub',
      why,
      {},
      { stepStartedAt: now },
    );
    const groups = await this.repo.groups(m, deployment.id);
    return this.transitions.publishAll(m, deployment, groups, staging ? 'stage' : 'new', 'hub');
  }

  /** `serveAs`: the named model a `rollback` is about (carried when not `default`). */
  private async sendCommand(
    deviceId: string,
    command: 'reload' | 'rollback',
    deploymentId: string,
    serveAs: string = DEFAULT_MODEL_NAME,
  ): Promise<void> {
    const message = encodeMessage('command', {
      command,
      id: randomUUID(),
      issued_at: new Date().toISOString(),
      deployment_id: deploymentId,
      ...(command === 'rollback' && serveAs !== DEFAULT_MODEL_NAME ? { serve_as: serveAs } : {}),
    });
    await this.broker.mqtt.publish(deviceCommandsTopic(deviceId), message, {
      qos: 1,
      retain: false,
    });
  }

  /**
   * Progress reports of tracked deployments (active, or finished within TRACK_FINISHED_S): the
   * report's top-level `deployment` (the `default` model) and each named model's
   * (`models.{name}.deployment`, docs/protocol.md 6.6). Deployment ids are unique, so a row stays
   * keyed by deployment and device whichever name it is about.
   */
  async recordReports(reports: readonly DeviceStateReport[]): Promise<void> {
    // One that repeats what was written last (a reconnect sends the retained state again) writes
    // nothing.
    const rows = progressRows(reports, (id) => this.trackedIds.has(id)).filter(
      (r) => !this.views.repeats(r.deployment_id, r.device_id, progressSignature(r)),
    );
    if (rows.length === 0) return;
    const { changes, touched } = await this.repo.recordProgress(rows);
    for (const r of rows) this.views.wrote(r.deployment_id, r.device_id, progressSignature(r));
    this.views.applyProgress(changes);
    for (const { id, status } of touched) this.events.emit('deployment.changed', { id, status });
    this.evaluateSoon(50);
  }
}
