import { Injectable } from '@nestjs/common';
import type { Capabilities, DesiredState } from '@sentinel/broker';
import type { DataSource, EntityManager } from 'typeorm';
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
   * seq only grows, so an old hold's seq never matches a later state).
   */
  deviceFacts(
    m: EntityManager,
    groupIds: string[],
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
    return m.query(
      `SELECT d.id, d.group_id, d.capabilities, d.desired, d.desired_seq,
              d.desired IS NOT NULL AND EXISTS (
                SELECT 1 FROM deployment_devices dd
                 WHERE dd.device_id = d.id AND dd.held_seq = d.desired_seq
              ) AS held
         FROM devices d WHERE d.group_id = ANY($1) ORDER BY d.id`,
      [groupIds],
    );
  }

  /** The groups' desired states now. */
  async groupDesired(
    m: EntityManager,
    groupIds: string[],
  ): Promise<Map<string, DesiredState | null>> {
    const rows: { id: string; desired: DesiredState | null }[] = await m.query(
      'SELECT id, desired FROM device_groups WHERE id = ANY($1)',
      [groupIds],
    );
    return new Map(rows.map((r) => [r.id, r.desired]));
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
