import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  deviceCommandsTopic,
  encodeMessage,
  type DesiredState,
  type ModelRef,
} from '@sentinel/broker';
import { DataSource, In, IsNull, type EntityManager } from 'typeorm';
import { actorOf, type Principal } from '../auth/auth.decorators.js';
import { DomainError, notFound, validationFailed } from '../common/domain-error.js';
import { APP_CONFIG, type AppConfig } from '../config/app-config.js';
import { BrokerService } from '../broker/broker.service.js';
import { DesiredStateService, type StagedDesired } from '../broker/desired-state.service.js';
import { FleetEvents } from '../fleet/fleet-events.js';
import type { DeviceStateReport } from '../fleet/domain/state-reports.js';
import { RegistryService } from '../registry/registry.service.js';
import { ModelVersion } from '../registry/model-version.entity.js';
import {
  TELEMETRY_STORE,
  type DeploymentEventPoint,
  type TelemetryStore,
} from '../telemetry/telemetry-store.js';
import { Deployment, DeploymentEvent, DeploymentGroup } from './deployment.entity.js';
import {
  ACTIVE_STATUSES,
  allowedFrom,
  evaluate,
  type Counts,
  type DeploymentStatus,
  type DeviceView,
  type HealthVerdict,
  type RolloutPolicy,
} from './domain/rollout.js';
import { rulesPolicy } from '../rules/domain/health.js';
import type { CreateDeploymentDto, ListDeploymentsQueryDto } from './dto/deployment.dto.js';

export interface DeploymentSummary {
  deployment: Deployment;
  model: { id: string; name: string; version: string };
  groups: DeploymentGroup[];
}

export interface DeploymentDetail extends DeploymentSummary {
  progress: {
    targets: number;
    online: number;
    participating: number;
    phases: Record<string, number>;
    failed_devices: {
      device_id: string;
      phase: string;
      reason: string | null;
      detail: string | null;
      attempts: number;
    }[];
  };
  events: DeploymentEvent[];
}

type Activate = 'new' | 'previous';
type Action = 'rollback' | 'pause' | 'resume' | 'promote';

const DEFAULT_STEPS = [5, 25, 100];
/** How long after it ends a deployment's device reports are still recorded (a rollback landing). */
const TRACK_FINISHED_S = 600;
const FINISHED: readonly DeploymentStatus[] = ['succeeded', 'rolled_back', 'failed', 'superseded'];

/**
 * Deployments: creates them, drives them (a loop evaluates every active one, on a timer and as
 * device reports arrive), and carries out manual actions. State lives in the database only, so a
 * restarted hub, or another hub, continues where the last evaluation left off; a row lock
 * (SKIP LOCKED) keeps two hubs from evaluating one deployment at once.
 */
@Injectable()
export class DeploymentsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Deployments');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private soon?: NodeJS.Timeout;
  private activeIds = new Set<string>();
  /** Active deployments, and those finished lately: devices still report how they got there. */
  private trackedIds = new Set<string>();
  private justCreated = new Set<string>();
  private recording: Promise<void> = Promise.resolve();
  private unsubscribe?: () => void;
  private stopped = false;
  /** Transitions to copy to the telemetry store (Grafana annotations) once their transaction commits. */
  private annotations: DeploymentEventPoint[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: RegistryService,
    private readonly desired: DesiredStateService,
    private readonly broker: BrokerService,
    private readonly fleetEvents: FleetEvents,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() @Inject(TELEMETRY_STORE) private readonly telemetry?: TelemetryStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.unsubscribe = this.fleetEvents.on('device.reports', ({ reports }) => {
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

  // --- creating -------------------------------------------------------------------------------

  async create(input: CreateDeploymentDto, principal: Principal): Promise<DeploymentSummary> {
    const policy = policyOf(input);
    const model = await this.registry.get(input.model_id);
    const actor = actorOf(principal);
    const id = randomUUID();
    const staged: StagedDesired[] = [];
    await this.dataSource.transaction(async (m) => {
      const groups: { id: string; name: string; desired: DesiredState | null }[] = await m.query(
        `SELECT id, name, desired FROM device_groups
          WHERE environment = $1 AND ($2 = 'all' OR name = $2)
          ORDER BY name FOR UPDATE`,
        [input.environment, input.target],
      );
      if (groups.length === 0) await this.explainNoGroups(m, input.environment, input.target);

      const ids = groups.map((g) => g.id);
      const active: { deployment_id: string; group_name: string; status: string }[] = await m.query(
        `SELECT dg.deployment_id, dg.group_name, d.status FROM deployment_groups dg
           JOIN deployments d ON d.id = dg.deployment_id
          WHERE dg.group_id = ANY($1) AND dg.active`,
        [ids],
      );
      if (active.length > 0 && !input.supersede) {
        const first = active[0];
        throw new DomainError(
          'CONFLICT',
          `group ${first.group_name} already has an active deployment (${first.deployment_id}, ${first.status}); ` +
            'wait for it to finish, roll it back, or pass supersede: true',
          { deployment_id: first.deployment_id },
        );
      }
      const superseded = [...new Set(active.map((a) => a.deployment_id))];

      const previousIds = groups.map((g) => previousModelOf(g.desired, model.id));
      const previous = await this.models(m, previousIds);
      const deployment = m.getRepository(Deployment).create({
        id,
        modelId: model.id,
        environment: input.environment,
        type: input.deployment_type,
        target: input.target,
        status: input.deployment_type === 'blue-green' ? 'staging' : 'in_progress',
        statusReason: null,
        pausedFrom: null,
        stepIndex: 0,
        stepStartedAt: new Date(),
        cohortSalt: input.canary?.salt ?? id,
        policy,
        rules: input.rules ?? {},
        autoRollback: input.auto_rollback ?? true,
        supersededBy: null,
        createdBy: actor,
        finishedAt: null,
      });
      // The new deployment's row must exist before older ones can point at it.
      // (A cast: TypeORM's deep-partial type trips over the jsonb Record columns.)
      await m.getRepository(Deployment).insert(deployment as never);
      for (const old of superseded) {
        await this.transition(
          m,
          old,
          'superseded',
          actor,
          `superseded by deployment ${id}`,
          {},
          { supersededBy: id },
        );
      }
      await m.getRepository(DeploymentGroup).insert(
        groups.map((g, i) => ({
          deploymentId: id,
          groupId: g.id,
          groupName: g.name,
          previousModelId: previousIds[i],
          active: true,
        })),
      );
      await this.event(m, id, actor, 'created', null, deployment.status, null, {
        model: { id: model.id, name: model.name, version: model.version },
        groups: groups.map((g, i) => ({ name: g.name, previous_model_id: previousIds[i] })),
        policy,
      });
      const activate: Activate = input.deployment_type === 'blue-green' ? 'previous' : 'new';
      for (const [i, g] of groups.entries()) {
        staged.push(
          await this.desired.store(
            { kind: 'group', name: g.name },
            this.intent(deployment, model, previous.get(previousIds[i] ?? '') ?? null, activate),
            actor,
            m,
          ),
        );
      }
    });
    this.flushAnnotations();
    await this.desired.send(staged);
    this.activeIds.add(id);
    this.trackedIds.add(id);
    this.justCreated.add(id);
    this.logger.log(
      `deployment ${id}: ${input.deployment_type} of ${model.name}@${model.version} to ${input.target}`,
    );
    return this.summary(id);
  }

  private async explainNoGroups(
    m: EntityManager,
    environment: string,
    target: string,
  ): Promise<never> {
    if (target === 'all') {
      throw validationFailed(`environment ${environment} has no device groups`);
    }
    const elsewhere: { environment: string }[] = await m.query(
      'SELECT environment FROM device_groups WHERE name = $1',
      [target],
    );
    if (elsewhere.length > 0) {
      throw validationFailed(
        `group ${target} is in environment ${elsewhere[0].environment}, not ${environment}`,
      );
    }
    throw notFound('group', target);
  }

  // --- manual actions ---------------------------------------------------------------------------

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
    await this.dataSource.transaction(async (m) => {
      const deployment = await m.getRepository(Deployment).findOne({
        where: { id },
        lock: { mode: 'pessimistic_write' },
      });
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
          await this.transition(
            m,
            id,
            'paused',
            actor,
            reason ?? 'paused',
            {},
            { pausedFrom: deployment.status },
          );
          break;
        case 'resume':
          await this.transition(
            m,
            id,
            deployment.pausedFrom ?? 'in_progress',
            actor,
            reason ?? 'resumed',
            {},
            {
              pausedFrom: null,
              stepStartedAt: new Date(),
            },
          );
          break;
        case 'promote':
          staged.push(...(await this.promote(m, deployment, actor)));
          break;
      }
    });
    this.flushAnnotations();
    await this.desired.send(staged);
    if (action !== 'rollback') this.evaluateSoon(0);
    else this.activeIds.delete(id); // its progress is still recorded (trackedIds)
    return this.summary(id);
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
    const groups = await m
      .getRepository(DeploymentGroup)
      .find({ where: { deploymentId: deployment.id } });
    if (deployment.status === 'succeeded') {
      // Only the deployment a group still follows may be rolled back; a later one replaced it.
      const current: { name: string; deployment_id: string | null }[] = await m.query(
        `SELECT name, desired->>'deployment_id' AS deployment_id FROM device_groups WHERE id = ANY($1)`,
        [groups.map((g) => g.groupId)],
      );
      const moved = current.find((g) => g.deployment_id !== deployment.id);
      if (moved) {
        throw new DomainError(
          'CONFLICT',
          `group ${moved.name} follows deployment ${moved.deployment_id} now; roll that one back instead`,
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
    await this.transition(m, deployment.id, 'rolled_back', actor, reason, figures);
    return this.publishAll(m, deployment, groups, 'previous', actor);
  }

  private async promote(
    m: EntityManager,
    deployment: Deployment,
    actor: string,
  ): Promise<StagedDesired[]> {
    const groups = await m
      .getRepository(DeploymentGroup)
      .find({ where: { deploymentId: deployment.id } });
    if (deployment.type === 'blue-green') {
      if (deployment.status !== 'staging') {
        throw new DomainError('CONFLICT', `deployment ${deployment.id} has already cut over`);
      }
      await this.transition(
        m,
        deployment.id,
        'in_progress',
        actor,
        'promoted: cutover now',
        {},
        {
          stepStartedAt: new Date(),
        },
      );
      return this.publishAll(m, deployment, groups, 'new', actor);
    }
    const last = deployment.policy.canarySteps.length - 1;
    if (deployment.stepIndex >= last) {
      throw new DomainError(
        'CONFLICT',
        `deployment ${deployment.id} is already at its last step (100 %)`,
      );
    }
    const next = { ...deployment, stepIndex: deployment.stepIndex + 1 };
    await m
      .getRepository(Deployment)
      .update(deployment.id, { stepIndex: next.stepIndex, stepStartedAt: new Date() });
    await this.event(
      m,
      deployment.id,
      actor,
      'promoted',
      deployment.status,
      deployment.status,
      null,
      {
        step_index: next.stepIndex,
        percent: deployment.policy.canarySteps[next.stepIndex],
      },
    );
    return this.publishAll(m, next, groups, 'new', actor);
  }

  // --- the loop ---------------------------------------------------------------------------------

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
    const rows: { id: string; active: boolean }[] = await this.dataSource.query(
      `SELECT id, status = ANY($1) AS active FROM deployments
        WHERE status = ANY($1) OR finished_at > now() - interval '${TRACK_FINISHED_S} seconds'
        ORDER BY created_at`,
      [ACTIVE_STATUSES],
    );
    const active = new Set(rows.filter((r) => r.active).map((r) => r.id));
    // Created meanwhile (this query may have started before its commit).
    for (const id of this.activeIds) if (this.justCreated.has(id)) active.add(id);
    this.justCreated.clear();
    this.activeIds = active;
    this.trackedIds = new Set([...active, ...rows.map((r) => r.id)]);
  }

  private async evaluateOne(id: string): Promise<void> {
    const staged: StagedDesired[] = [];
    let reloads: string[] = [];
    await this.dataSource.transaction(async (m) => {
      const deployment = await m.getRepository(Deployment).findOne({
        where: { id },
        lock: { mode: 'pessimistic_write', onLocked: 'skip_locked' },
      });
      if (!deployment || !ACTIVE_STATUSES.includes(deployment.status)) return;
      const devices = await this.deviceViews(m, id);
      const now = new Date();
      const verdict = healthVerdictOf(deployment, now, this.config.RULES_INTERVAL_S);
      const result = evaluate(viewOf(deployment), devices, now, verdict);
      if (result.timeouts.length > 0) {
        await m.query(
          `UPDATE deployment_devices SET phase = 'failed', reason = 'timeout', phase_since = $3, updated_at = $3,
                  detail = 'no progress within device_timeout_s (' || $4 || ' s)'
            WHERE deployment_id = $1 AND device_id = ANY($2)`,
          [id, result.timeouts, now, deployment.policy.deviceTimeoutS],
        );
        for (const device of result.timeouts) {
          await this.event(m, id, 'hub', 'device.timeout', null, 'failed', device, {
            timeout_s: deployment.policy.deviceTimeoutS,
          });
        }
      }
      if (result.retries.length > 0) {
        await m.query(
          `UPDATE deployment_devices SET attempts = attempts + 1, phase = 'notified', reason = NULL, detail = NULL,
                  phase_since = $3, updated_at = $3
            WHERE deployment_id = $1 AND device_id = ANY($2)`,
          [id, result.retries, now],
        );
        for (const device of result.retries)
          await this.event(m, id, 'hub', 'device.retry', 'failed', 'notified', device, {});
        reloads = result.retries;
      }
      const decision = result.decision;
      const figures = figuresOf(result.counts, decision.why);
      if (decision.kind === 'wait') return;
      const groups = await m.getRepository(DeploymentGroup).find({ where: { deploymentId: id } });
      switch (decision.kind) {
        case 'cutover':
          await this.transition(m, id, 'in_progress', 'hub', decision.why, figures, {
            stepStartedAt: now,
          });
          staged.push(...(await this.publishAll(m, deployment, groups, 'new', 'hub')));
          break;
        case 'advance': {
          const next = { ...deployment, stepIndex: decision.stepIndex };
          await m
            .getRepository(Deployment)
            .update(id, { stepIndex: decision.stepIndex, stepStartedAt: now });
          await this.event(m, id, 'hub', 'step', deployment.status, deployment.status, null, {
            ...figures,
            step_index: decision.stepIndex,
            percent: deployment.policy.canarySteps[decision.stepIndex],
          });
          staged.push(...(await this.publishAll(m, next, groups, 'new', 'hub')));
          break;
        }
        case 'succeed':
          await this.transition(m, id, 'succeeded', 'hub', decision.why, figures);
          break;
        case 'fail':
          await this.transition(
            m,
            id,
            'failed',
            'hub',
            `${decision.reason}: ${decision.why}`,
            figures,
          );
          // Devices that swapped go back; the others never left the previous model.
          if (groups.every((g) => g.previousModelId !== null)) {
            staged.push(...(await this.publishAll(m, deployment, groups, 'previous', 'hub')));
          }
          break;
      }
    });
    this.flushAnnotations();
    await this.desired.send(staged);
    for (const device of reloads) await this.sendCommand(device, 'reload', id);
  }

  private async sendCommand(
    deviceId: string,
    command: 'reload' | 'rollback',
    deploymentId: string,
  ): Promise<void> {
    const message = encodeMessage('command', {
      command,
      id: randomUUID(),
      issued_at: new Date().toISOString(),
      deployment_id: deploymentId,
    });
    await this.broker.mqtt.publish(deviceCommandsTopic(deviceId), message, {
      qos: 1,
      retain: false,
    });
  }

  /** Every device of the target groups, with what it reported for this deployment. */
  private async deviceViews(m: EntityManager | DataSource, id: string): Promise<DeviceView[]> {
    const rows: {
      id: string;
      online: boolean;
      phase: DeviceView['phase'];
      reason: string | null;
      phase_since: Date | null;
      attempts: number;
    }[] = await m.query(
      `SELECT d.id, d.online, dd.phase, dd.reason, dd.phase_since, COALESCE(dd.attempts, 0) AS attempts
         FROM deployment_groups g
         JOIN devices d ON d.group_id = g.group_id
         LEFT JOIN deployment_devices dd ON dd.deployment_id = g.deployment_id AND dd.device_id = d.id
        WHERE g.deployment_id = $1`,
      [id],
    );
    return rows.map((r) => ({
      id: r.id,
      online: r.online,
      phase: r.phase,
      reason: r.reason,
      phaseSince: r.phase_since ? new Date(r.phase_since) : null,
      attempts: Number(r.attempts),
    }));
  }

  /**
   * Progress reports of active deployments, written in one statement per batch: the device's
   * phase (a change of phase or reason restarts its clock and is an event), reason, bytes.
   */
  async recordReports(reports: readonly DeviceStateReport[]): Promise<void> {
    const rows = reports.flatMap((report) => {
      const progress = (report.reported as { deployment?: DeploymentProgressLike | null } | null)
        ?.deployment;
      if (!progress?.deployment_id || !this.trackedIds.has(progress.deployment_id)) return [];
      return [
        {
          deployment_id: progress.deployment_id,
          device_id: report.deviceId,
          phase: progress.phase,
          reason: progress.reason ?? null,
          detail: progress.detail ?? null,
          bytes: progress.bytes ?? null,
          total_bytes: progress.total_bytes ?? null,
          in_cohort: progress.in_cohort ?? null,
          at: report.at.toISOString(),
        },
      ];
    });
    if (rows.length === 0) return;
    // The latest report of a device wins within a batch.
    const latest = new Map(rows.map((r) => [`${r.deployment_id}/${r.device_id}`, r]));
    await this.dataSource.query(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
           deployment_id uuid, device_id text, phase text, reason text, detail text,
           bytes bigint, total_bytes bigint, in_cohort boolean, at timestamptz)
       ),
       before AS (
         SELECT dd.deployment_id, dd.device_id, dd.phase, dd.reason
           FROM deployment_devices dd JOIN input i USING (deployment_id, device_id)
       ),
       written AS (
         INSERT INTO deployment_devices AS dd
           (deployment_id, device_id, phase, reason, detail, bytes, total_bytes, in_cohort, attempts, phase_since, updated_at)
         SELECT deployment_id, device_id, phase, reason, detail, bytes, total_bytes, in_cohort, 0, at, at FROM input
         ON CONFLICT (deployment_id, device_id) DO UPDATE SET
           phase = EXCLUDED.phase, reason = EXCLUDED.reason, detail = EXCLUDED.detail,
           bytes = EXCLUDED.bytes, total_bytes = EXCLUDED.total_bytes, in_cohort = EXCLUDED.in_cohort,
           phase_since = CASE WHEN dd.phase IS DISTINCT FROM EXCLUDED.phase OR dd.reason IS DISTINCT FROM EXCLUDED.reason
                              THEN EXCLUDED.phase_since ELSE dd.phase_since END,
           updated_at = EXCLUDED.updated_at
         WHERE dd.updated_at <= EXCLUDED.updated_at
         RETURNING dd.deployment_id, dd.device_id, dd.phase, dd.reason, dd.detail
       )
       INSERT INTO deployment_events (deployment_id, actor, type, from_status, to_status, device_id, reason, figures)
       SELECT w.deployment_id, 'device:' || w.device_id, 'device.phase', b.phase, w.phase, w.device_id, w.reason,
              CASE WHEN w.detail IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('detail', w.detail) END
         FROM written w LEFT JOIN before b USING (deployment_id, device_id)
        WHERE b.phase IS DISTINCT FROM w.phase OR b.reason IS DISTINCT FROM w.reason`,
      [JSON.stringify([...latest.values()])],
    );
    this.evaluateSoon(50);
  }

  // --- reading ----------------------------------------------------------------------------------

  async list(
    query: ListDeploymentsQueryDto,
  ): Promise<{ items: DeploymentSummary[]; total: number; limit: number; offset: number }> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (query.status) add('d.status = ?', query.status);
    if (query.environment) add('d.environment = ?', query.environment);
    if (query.model_id) add('d.model_id = ?', query.model_id);
    if (query.group)
      add(
        'EXISTS (SELECT 1 FROM deployment_groups g WHERE g.deployment_id = d.id AND g.group_name = ?)',
        query.group,
      );
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ total }]: { total: string }[] = await this.dataSource.query(
      `SELECT count(*) AS total FROM deployments d ${clause}`,
      params,
    );
    const ids: { id: string }[] = await this.dataSource.query(
      `SELECT d.id FROM deployments d ${clause} ORDER BY d.created_at DESC, d.id LIMIT ${limit} OFFSET ${offset}`,
      params,
    );
    return {
      items: await this.summaries(ids.map((r) => r.id)),
      total: Number(total),
      limit,
      offset,
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
    const deployments = await this.dataSource.getRepository(Deployment).findBy({ id: In(ids) });
    const models = await this.models(
      this.dataSource.manager,
      deployments.map((d) => d.modelId),
    );
    const groups = await this.dataSource
      .getRepository(DeploymentGroup)
      .find({ where: { deploymentId: In(ids) }, order: { groupName: 'ASC' } });
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
    const devices = await this.deviceViews(this.dataSource, id);
    const { counts } = evaluate(viewOf(summary.deployment), devices, new Date());
    const failed: DeploymentDetail['progress']['failed_devices'] = await this.dataSource.query(
      `SELECT device_id, phase, reason, detail, attempts FROM deployment_devices
        WHERE deployment_id = $1 AND phase IN ('failed', 'rolled_back') ORDER BY device_id LIMIT 1000`,
      [id],
    );
    const events = await this.dataSource.getRepository(DeploymentEvent).find({
      where: { deploymentId: id, deviceId: IsNull() },
      order: { id: 'ASC' },
      take: 500,
    });
    return {
      ...summary,
      progress: {
        targets: counts.targets,
        online: counts.online,
        participating: counts.participating,
        phases: counts.byPhase,
        failed_devices: failed.map((f) => ({ ...f, attempts: Number(f.attempts) })),
      },
      events,
    };
  }

  // --- helpers ----------------------------------------------------------------------------------

  private async publishAll(
    m: EntityManager,
    deployment: Deployment,
    groups: DeploymentGroup[],
    activate: Activate,
    actor: string,
  ): Promise<StagedDesired[]> {
    const [model] = (await this.models(m, [deployment.modelId])).values();
    if (!model) throw notFound('model', deployment.modelId);
    const previous = await this.models(
      m,
      groups.map((g) => g.previousModelId),
    );
    const staged: StagedDesired[] = [];
    for (const group of groups) {
      staged.push(
        await this.desired.store(
          { kind: 'group', name: group.groupName },
          this.intent(
            deployment,
            model,
            previous.get(group.previousModelId ?? '') ?? null,
            activate,
          ),
          actor,
          m,
        ),
      );
    }
    return staged;
  }

  private intent(
    deployment: Deployment,
    model: ModelVersion,
    previous: ModelVersion | null,
    activate: Activate,
  ): Omit<DesiredState, 'seq' | 'issued_at'> {
    const canary = deployment.type === 'canary' && activate === 'new';
    const percent =
      deployment.policy.canarySteps[
        Math.min(deployment.stepIndex, deployment.policy.canarySteps.length - 1)
      ]!;
    return {
      deployment_id: deployment.id,
      strategy: deployment.type,
      model: this.desired.modelRef(model),
      previous: previous ? this.desired.modelRef(previous) : null,
      activate,
      // At 100 % every device is in: no cohort, the same message as a finished blue/green.
      cohort: canary && percent < 100 ? { percent, salt: deployment.cohortSalt } : null,
    };
  }

  /**
   * Model versions by id, read through the caller's transaction (on PGlite a query on another
   * connection inside a transaction waits forever). A missing one (deleted since) is left out.
   */
  private async models(
    m: EntityManager,
    ids: (string | null)[],
  ): Promise<Map<string, ModelVersion>> {
    const wanted = [...new Set(ids.filter((v): v is string => v !== null))];
    if (wanted.length === 0) return new Map();
    const found = await m.getRepository(ModelVersion).findBy({ id: In(wanted) });
    return new Map(found.map((model) => [model.id, model]));
  }

  private async transition(
    m: EntityManager,
    id: string,
    to: DeploymentStatus,
    actor: string,
    why: string,
    figures: Record<string, unknown>,
    extra: {
      supersededBy?: string;
      pausedFrom?: DeploymentStatus | null;
      stepStartedAt?: Date;
    } = {},
  ): Promise<void> {
    const [{ status: from }]: { status: DeploymentStatus }[] = await m.query(
      'SELECT status FROM deployments WHERE id = $1',
      [id],
    );
    const finished = FINISHED.includes(to);
    await m.getRepository(Deployment).update(id, {
      status: to,
      statusReason: finished || to === 'paused' ? why : null,
      ...(finished ? { finishedAt: new Date() } : {}),
      ...extra,
    });
    if (finished)
      await m.getRepository(DeploymentGroup).update({ deploymentId: id }, { active: false });
    const type = to === 'in_progress' && from === 'staging' ? 'cutover' : to;
    await this.event(m, id, actor, type, from, to, null, { ...figures, why });
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
    const [row]: { environment: string; version: string; groups: string | null }[] = await m.query(
      `SELECT d.environment, mv.version,
              (SELECT string_agg(g.group_name, ',' ORDER BY g.group_name)
                 FROM deployment_groups g WHERE g.deployment_id = d.id) AS groups
         FROM deployments d JOIN model_versions mv ON mv.id = d.model_id WHERE d.id = $1`,
      [id],
    );
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
  private flushAnnotations(): void {
    const batch = this.annotations;
    this.annotations = [];
    if (batch.length === 0 || !this.telemetry) return;
    void this.telemetry
      .writeEvents(batch)
      .catch((error: Error) =>
        this.logger.warn(`could not write deployment annotations: ${error.message}`),
      );
  }

  private async event(
    m: EntityManager,
    deploymentId: string,
    actor: string,
    type: string,
    from: string | null,
    to: string | null,
    deviceId: string | null,
    figures: Record<string, unknown>,
  ): Promise<void> {
    await m.getRepository(DeploymentEvent).insert({
      deploymentId,
      actor,
      type,
      fromStatus: from,
      toStatus: to,
      deviceId,
      reason: (figures.why as string | undefined) ?? null,
      figures: figures as never,
    });
  }
}

interface DeploymentProgressLike {
  deployment_id: string | null;
  phase: string;
  reason?: string;
  detail?: string;
  bytes?: number;
  total_bytes?: number;
  in_cohort?: boolean;
}

function viewOf(deployment: Deployment) {
  return {
    type: deployment.type,
    status: deployment.status,
    stepIndex: deployment.stepIndex,
    cohortSalt: deployment.cohortSalt,
    stepStartedAt: deployment.stepStartedAt,
    policy: deployment.policy,
  };
}

function figuresOf(counts: Counts, why: string): Record<string, unknown> {
  return {
    targets: counts.targets,
    online: counts.online,
    participating: counts.participating,
    failed_final: counts.failedFinal,
    phases: counts.byPhase,
    why,
  };
}

/** What a group serves now (what a rollback returns to): the desired model unless that is `model`. */
export function previousModelOf(desired: DesiredState | null, modelId: string): string | null {
  if (!desired) return null;
  const serving: ModelRef | null =
    desired.activate === 'new' && desired.cohort === null ? desired.model : desired.previous;
  if (serving && serving.id !== modelId) return serving.id;
  // Deploying what already serves: fall back to what served before that.
  return desired.previous && desired.previous.id !== modelId ? desired.previous.id : null;
}

export function policyOf(input: CreateDeploymentDto): RolloutPolicy {
  try {
    rulesPolicy(input.rules);
  } catch (error) {
    throw validationFailed((error as Error).message);
  }
  if (input.deployment_type === 'blue-green' && input.canary) {
    throw validationFailed('canary options apply only to deployment_type canary');
  }
  const steps = input.canary?.steps ?? DEFAULT_STEPS;
  if (steps.some((s, i) => i > 0 && s <= steps[i - 1]!) || steps.at(-1) !== 100) {
    throw validationFailed('canary.steps must increase and end at 100');
  }
  return {
    stagingTimeoutS: input.staging_timeout_s ?? 600,
    deviceTimeoutS: input.device_timeout_s ?? 900,
    minStagedShare: input.min_staged_share ?? 0.8,
    maxFailureShare: input.max_failure_share ?? 0.2,
    maxRetries: input.max_retries ?? 3,
    retryBackoffS: 10,
    canarySteps: steps,
    stepIntervalS: input.canary?.step_interval_s ?? 300,
  };
}

/**
 * The rules module's verdict for the current step, from the deployment's own row: null when its
 * rules are off (steps then follow the interval alone), inconclusive when there is no fresh one.
 */
export function healthVerdictOf(
  deployment: Pick<Deployment, 'rules' | 'health' | 'stepStartedAt'>,
  now: Date,
  rulesIntervalS: number,
): HealthVerdict | null {
  if (deployment.rules?.enabled === false) return null;
  const health = deployment.health as { verdict?: HealthVerdict; evaluated_at?: string } | null;
  if (!health?.verdict || !health.evaluated_at) return 'inconclusive';
  const at = Date.parse(health.evaluated_at);
  if (at < deployment.stepStartedAt.getTime()) return 'inconclusive';
  if (now.getTime() - at > 3 * rulesIntervalS * 1000 + 1000) return 'inconclusive';
  return health.verdict;
}
