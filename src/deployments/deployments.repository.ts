import { Injectable } from '@nestjs/common';
import { DataSource, In, IsNull, type EntityManager } from 'typeorm';
import { ModelVersion } from '../registry/model-version.entity.js';
import { Deployment, DeploymentEvent, DeploymentGroup } from './deployment.entity.js';
import type { DeploymentStatus, DeviceView } from './domain/rollout.js';
import type { DeploymentListQuery } from './deployment-views.js';
import type { ProgressChange } from './progress-views.js';
import type { ProgressRow } from './domain/progress-reports.js';

/** One device's progress report for a deployment, as recorded. */
export type { ProgressRow } from './domain/progress-reports.js';

/** The phases of a device's progress that are routine (no `device.phase` event), as SQL. */
const ROUTINE = `('notified', 'downloading', 'verifying', 'staged', 'active')`;

export interface FailedDeviceRow {
  device_id: string;
  phase: string;
  reason: string | null;
  detail: string | null;
  attempts: number;
}

type Db = EntityManager | DataSource;

/**
 * The deployments feature's SQL: its tables (deployments, deployment_groups, deployment_devices,
 * deployment_events) are written here and nowhere else. Methods that take `m` run in the caller's
 * transaction (on PGlite a query on another connection inside a transaction waits forever).
 */
@Injectable()
export class DeploymentsRepository {
  constructor(readonly dataSource: DataSource) {}

  transaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The deployment with its row locked for this transaction; `skipLocked`: null if another has it. */
  lock(m: EntityManager, id: string, skipLocked = false): Promise<Deployment | null> {
    return m.getRepository(Deployment).findOne({
      where: { id },
      lock: skipLocked
        ? { mode: 'pessimistic_write', onLocked: 'skip_locked' }
        : { mode: 'pessimistic_write' },
    });
  }

  find(id: string): Promise<Deployment | null> {
    return this.dataSource.getRepository(Deployment).findOne({ where: { id } });
  }

  findByStatus(status: DeploymentStatus): Promise<Deployment[]> {
    return this.dataSource.getRepository(Deployment).find({ where: { status } });
  }

  insert(m: EntityManager, deployment: Deployment): Promise<unknown> {
    // (A cast: TypeORM's deep-partial type trips over the jsonb Record columns.)
    return m.getRepository(Deployment).insert(deployment as never);
  }

  update(db: Db, id: string, fields: Partial<Deployment>): Promise<unknown> {
    return db.getRepository(Deployment).update(id, fields as never);
  }

  async status(m: EntityManager, id: string): Promise<DeploymentStatus> {
    const [{ status }]: { status: DeploymentStatus }[] = await m.query(
      'SELECT status FROM deployments WHERE id = $1',
      [id],
    );
    return status;
  }

  groups(db: Db, deploymentId: string): Promise<DeploymentGroup[]> {
    return db.getRepository(DeploymentGroup).find({ where: { deploymentId } });
  }

  insertGroups(m: EntityManager, groups: Partial<DeploymentGroup>[]): Promise<unknown> {
    return m.getRepository(DeploymentGroup).insert(groups as never);
  }

  deactivateGroups(m: EntityManager, deploymentId: string): Promise<unknown> {
    return m.getRepository(DeploymentGroup).update({ deploymentId }, { active: false });
  }

  async event(
    m: Db,
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

  /** Ids of active deployments, and of those finished within `trackS` seconds. */
  recent(
    activeStatuses: readonly DeploymentStatus[],
    trackS: number,
  ): Promise<{ id: string; active: boolean }[]> {
    return this.dataSource.query(
      `SELECT id, status = ANY($1) AS active FROM deployments
        WHERE status = ANY($1) OR finished_at > now() - interval '${Math.floor(trackS)} seconds'
        ORDER BY created_at`,
      [activeStatuses],
    );
  }

  /**
   * Every device of the target groups, with what it reported for this deployment; not those it
   * skipped as incompatible (they take no part: no waiting for them, no share of failures).
   */
  async deviceViews(m: Db, id: string): Promise<DeviceView[]> {
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
        WHERE g.deployment_id = $1 AND dd.phase IS DISTINCT FROM 'skipped'`,
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

  markTimedOut(
    m: EntityManager,
    id: string,
    devices: string[],
    now: Date,
    timeoutS: number,
  ): Promise<unknown> {
    return m.query(
      `UPDATE deployment_devices SET phase = 'failed', reason = 'timeout', phase_since = $3, updated_at = $3,
              detail = 'no progress within device_timeout_s (' || $4 || ' s)'
        WHERE deployment_id = $1 AND device_id = ANY($2)`,
      [id, devices, now, timeoutS],
    );
  }

  markRetried(m: EntityManager, id: string, devices: string[], now: Date): Promise<unknown> {
    return m.query(
      `UPDATE deployment_devices SET attempts = attempts + 1, phase = 'notified', reason = NULL, detail = NULL,
              phase_since = $3, updated_at = $3
        WHERE deployment_id = $1 AND device_id = ANY($2)`,
      [id, devices, now],
    );
  }

  /**
   * Progress reports, written in one statement per batch: the device's phase (a change of phase or
   * reason restarts its clock), reason, bytes. A change into or out of a phase that is not routine
   * progress (failed, rolled_back, deferred) is also an event (`device.phase`); the routine ones
   * (notified to active) only move the row: at 10,000 devices they were 40,000 event rows per
   * deployment, half the cost of the write, that nothing read. An older report never overwrites a
   * newer one. Returns the rows as written (`changes`, what ProgressViews follows) and the
   * deployments they belong to, with their status.
   */
  async recordProgress(
    rows: readonly ProgressRow[],
  ): Promise<{ changes: ProgressChange[]; touched: { id: string; status: DeploymentStatus }[] }> {
    const written: {
      deployment_id: string;
      device_id: string;
      phase: ProgressChange['phase'];
      reason: string | null;
      phase_since: Date | string | null;
      status: DeploymentStatus;
    }[] = await this.dataSource.query(
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
         RETURNING dd.deployment_id, dd.device_id, dd.phase, dd.reason, dd.detail, dd.phase_since
       ),
       events AS (
         INSERT INTO deployment_events (deployment_id, actor, type, from_status, to_status, device_id, reason, figures)
         SELECT w.deployment_id, 'device:' || w.device_id, 'device.phase', b.phase, w.phase, w.device_id, w.reason,
                CASE WHEN w.detail IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('detail', w.detail) END
           FROM written w LEFT JOIN before b USING (deployment_id, device_id)
          WHERE (b.phase IS DISTINCT FROM w.phase OR b.reason IS DISTINCT FROM w.reason)
            AND (w.phase NOT IN ${ROUTINE} OR b.phase NOT IN ${ROUTINE})
       )
       SELECT w.deployment_id, w.device_id, w.phase, w.reason, w.phase_since, d.status
         FROM written w JOIN deployments d ON d.id = w.deployment_id`,
      [JSON.stringify(rows)],
    );
    const touched = new Map<string, DeploymentStatus>();
    for (const row of written) touched.set(row.deployment_id, row.status);
    return {
      changes: written.map((row) => ({
        deploymentId: row.deployment_id,
        deviceId: row.device_id,
        phase: row.phase,
        reason: row.reason,
        phaseSince: row.phase_since ? new Date(row.phase_since) : null,
      })),
      touched: [...touched].map(([id, status]) => ({ id, status })),
    };
  }

  /** Devices of the cohort(s) that failed, and all that took part (for the staging-failure rule). */
  async stagingCounts(id: string): Promise<{ failed: number; total: number }> {
    const [row]: { failed: string; total: string }[] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE phase = 'failed') AS failed, count(*) AS total
         FROM deployment_devices WHERE deployment_id = $1 AND in_cohort IS NOT FALSE AND phase <> 'skipped'`,
      [id],
    );
    return { failed: Number(row!.failed), total: Number(row!.total) };
  }

  failedDevices(id: string): Promise<FailedDeviceRow[]> {
    return this.dataSource.query(
      `SELECT device_id, phase, reason, detail, attempts FROM deployment_devices
        WHERE deployment_id = $1 AND phase IN ('failed', 'rolled_back') ORDER BY device_id LIMIT 1000`,
      [id],
    );
  }

  deferredDevices(
    id: string,
  ): Promise<
    { device_id: string; reason: string | null; detail: string | null; phase_since: Date }[]
  > {
    return this.dataSource.query(
      `SELECT device_id, reason, detail, phase_since FROM deployment_devices
        WHERE deployment_id = $1 AND phase = 'deferred' ORDER BY device_id LIMIT 1000`,
      [id],
    );
  }

  /** Devices the deployment skipped (incompatible), with why. */
  skippedDevices(id: string): Promise<{ device_id: string; reason: string; detail: string }[]> {
    return this.dataSource.query(
      `SELECT device_id, reason, detail FROM deployment_devices
        WHERE deployment_id = $1 AND phase = 'skipped' ORDER BY device_id LIMIT 1000`,
      [id],
    );
  }

  events(id: string): Promise<DeploymentEvent[]> {
    return this.dataSource.getRepository(DeploymentEvent).find({
      where: { deploymentId: id, deviceId: IsNull() },
      order: { id: 'ASC' },
      take: 500,
    });
  }

  /** A page of deployment ids, newest first, and the total. */
  async page(query: DeploymentListQuery): Promise<{ ids: string[]; total: number }> {
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
    if (query.serve_as) add('d.serve_as = ?', query.serve_as);
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
    return { ids: ids.map((r) => r.id), total: Number(total) };
  }

  findMany(ids: string[]): Promise<Deployment[]> {
    return this.dataSource.getRepository(Deployment).findBy({ id: In(ids) });
  }

  groupsOf(ids: string[]): Promise<DeploymentGroup[]> {
    return this.dataSource
      .getRepository(DeploymentGroup)
      .find({ where: { deploymentId: In(ids) }, order: { groupName: 'ASC' } });
  }

  /** Model versions by id (the registry's rows, read only); a missing one is left out. */
  async models(m: Db, ids: (string | null)[]): Promise<Map<string, ModelVersion>> {
    const wanted = [...new Set(ids.filter((v): v is string => v !== null))];
    if (wanted.length === 0) return new Map();
    const found = await m.getRepository(ModelVersion).findBy({ id: In(wanted) });
    return new Map(found.map((model) => [model.id, model]));
  }

  /** What a Grafana annotation of the deployment names: environment, version, groups. */
  async annotationFacts(
    m: Db,
    id: string,
  ): Promise<{ environment: string; version: string; groups: string | null } | undefined> {
    const [row]: { environment: string; version: string; groups: string | null }[] = await m.query(
      `SELECT d.environment, mv.version,
              (SELECT string_agg(g.group_name, ',' ORDER BY g.group_name)
                 FROM deployment_groups g WHERE g.deployment_id = d.id) AS groups
         FROM deployments d JOIN model_versions mv ON mv.id = d.model_id WHERE d.id = $1`,
      [id],
    );
    return row;
  }

  /** Why a model version must stay: deployment history keeps its models, and a rollback needs its fallback. */
  async modelUse(m: EntityManager, modelId: string): Promise<string | null> {
    const deployed: { id: string; status: string }[] = await m.query(
      'SELECT id, status FROM deployments WHERE model_id = $1 ORDER BY created_at DESC LIMIT 1',
      [modelId],
    );
    if (deployed.length > 0)
      return `has been deployed (deployment ${deployed[0].id}, ${deployed[0].status})`;
    const fallback: { deployment_id: string }[] = await m.query(
      'SELECT deployment_id FROM deployment_groups WHERE previous_model_id = $1 LIMIT 1',
      [modelId],
    );
    return fallback.length > 0
      ? `is the fallback of deployment ${fallback[0].deployment_id} (what its rollback restores)`
      : null;
  }

  /** Active deployments of one named model on these groups. */
  activeOn(
    m: EntityManager,
    groupIds: string[],
    serveAs: string,
  ): Promise<{ deployment_id: string; group_name: string; status: string }[]> {
    return m.query(
      `SELECT dg.deployment_id, dg.group_name, d.status FROM deployment_groups dg
         JOIN deployments d ON d.id = dg.deployment_id
        WHERE dg.group_id = ANY($1) AND dg.serve_as = $2 AND dg.active`,
      [groupIds, serveAs],
    );
  }
}
