import { Injectable } from '@nestjs/common';
import { DEFAULT_MODEL_NAME, type Capabilities, type DesiredState } from '@sentinel/broker';
import type { DataSource, EntityManager } from 'typeorm';
import { notFound, validationFailed } from '../common/domain-error.js';
import type { MaintenanceWindow } from '../fleet/domain/maintenance-windows.js';

type Db = EntityManager | DataSource;

/**
 * What a deployment reaches: the device groups and devices it targets, and the groups' maintenance
 * windows. Reads only (the fleet feature owns these tables), in the caller's transaction.
 */
@Injectable()
export class DeploymentTargets {
  /** The environment's target groups (or the one named), locked for the deployment being made. */
  lockTargetGroups(
    m: EntityManager,
    environment: string,
    target: string,
  ): Promise<
    {
      id: string;
      name: string;
      desired: DesiredState | null;
      maintenance_windows: MaintenanceWindow[];
    }[]
  > {
    return m.query(
      `SELECT id, name, desired, maintenance_windows FROM device_groups
        WHERE environment = $1 AND ($2 = 'all' OR name = $2)
        ORDER BY name FOR UPDATE`,
      [environment, target],
    );
  }

  /** Why a deployment found no target group: the 400 or 404 to answer. */
  async explainNoGroups(m: EntityManager, environment: string, target: string): Promise<never> {
    if (target === 'all') {
      throw validationFailed(`environment ${environment} has no device groups`);
    }
    const elsewhere = await this.environmentsOf(m, target);
    if (elsewhere.length > 0) {
      throw validationFailed(
        `group ${target} is in environment ${elsewhere[0]}, not ${environment}`,
      );
    }
    throw notFound('group', target);
  }

  /** The environments a group name exists in (to explain a target that is not found). */
  async environmentsOf(m: EntityManager, group: string): Promise<string[]> {
    const rows: { environment: string }[] = await m.query(
      'SELECT environment FROM device_groups WHERE name = $1',
      [group],
    );
    return rows.map((r) => r.environment);
  }

  /**
   * What compatibility is judged on, per device of the groups: its reported capabilities, whether it
   * has its own desired state, and whether that state is a hold the hub set to keep its model
   * (deployment_devices.held_seq still equal to its desired_seq: nobody pinned it since; a device's
   * seq only grows, so an old hold's seq never matches a later state). All of it for one named
   * model (`serveAs`, docs/protocol.md 6.6): its override and seq, holds of deployments of that name.
   */
  deviceFacts(
    m: EntityManager,
    groupIds: string[],
    serveAs: string,
  ): Promise<
    {
      id: string;
      group_id: string;
      capabilities: Capabilities | null;
      desired: DesiredState | null;
      desired_seq: number;
      held: boolean;
    }[]
  > {
    // The named model's override is the broker feature's named_desired_states row (read only).
    const own =
      serveAs === DEFAULT_MODEL_NAME
        ? 'SELECT d.id, d.group_id, d.capabilities, d.desired, d.desired_seq FROM devices d'
        : `SELECT d.id, d.group_id, d.capabilities, n.desired, COALESCE(n.seq, 0) AS desired_seq
             FROM devices d LEFT JOIN named_desired_states n ON n.device_id = d.id AND n.name = $2`;
    return m.query(
      `SELECT o.id, o.group_id, o.capabilities, o.desired, o.desired_seq,
              o.desired IS NOT NULL AND EXISTS (
                SELECT 1 FROM deployment_devices dd JOIN deployments dep ON dep.id = dd.deployment_id
                 WHERE dd.device_id = o.id AND dd.held_seq = o.desired_seq AND dep.serve_as = $2
              ) AS held
         FROM (${own}) o WHERE o.group_id = ANY($1) ORDER BY o.id`,
      [groupIds, serveAs],
    );
  }

  /** The maintenance windows of a deployment's groups (a group deleted since has none). */
  groupWindows(
    db: Db,
    deploymentId: string,
  ): Promise<{ name: string; windows: MaintenanceWindow[] }[]> {
    return db.query(
      `SELECT g.group_name AS name, COALESCE(d.maintenance_windows, '[]'::jsonb) AS windows
         FROM deployment_groups g LEFT JOIN device_groups d ON d.id = g.group_id
        WHERE g.deployment_id = $1 ORDER BY g.group_name`,
      [deploymentId],
    );
  }
}
