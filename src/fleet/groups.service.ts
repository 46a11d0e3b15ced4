import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, Not, type Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { validationFailed } from '../common/domain-error.js';
import { actorOf, type Principal } from '../auth/auth.decorators.js';
import { DeviceCredentials } from './device-credentials.js';
import { DeviceGroup } from './device-group.entity.js';
import { checkFleetId, checkLabels, type Labels } from './domain/fleet-rules.js';
import { checkWindow, type MaintenanceWindow } from './domain/maintenance-windows.js';
import { FleetDeleteHooks } from './delete-hooks.js';
import { FleetEvents } from './fleet-events.js';
import {
  assertValid,
  groupExists,
  groupNotFound,
  UNIQUE_VIOLATION,
  violates,
} from './fleet.errors.js';

export interface NewGroup {
  name: string;
  environment: string;
  labels?: Labels;
}

export type GroupWithCount = DeviceGroup & { deviceCount: number };

/**
 * Device groups: created, listed with their device counts, given maintenance windows, deleted
 * with their devices. Every change is audited and announced on FleetEvents after it commits.
 */
@Injectable()
export class GroupsService {
  private readonly groups: Repository<DeviceGroup>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly credentials: DeviceCredentials,
    private readonly events: FleetEvents,
    private readonly deleteHooks: FleetDeleteHooks,
  ) {
    this.groups = dataSource.getRepository(DeviceGroup);
  }

  async createGroup(input: NewGroup, principal: Principal): Promise<GroupWithCount> {
    const labels = input.labels ?? {};
    assertValid(
      checkFleetId('name', input.name),
      checkFleetId('environment', input.environment),
      checkLabels('labels', labels),
    );
    try {
      const group = await this.dataSource.transaction(async (manager) => {
        const repository = manager.getRepository(DeviceGroup);
        const saved = await repository.save(
          repository.create({ name: input.name, environment: input.environment, labels }),
        );
        await this.audit.record(
          actorOf(principal),
          'group.create',
          'group',
          saved.name,
          { environment: saved.environment, labels },
          manager,
        );
        return saved;
      });
      return Object.assign(group, { deviceCount: 0 });
    } catch (error) {
      if (violates(error, UNIQUE_VIOLATION)) throw groupExists(input.name);
      throw error;
    }
  }

  async listGroups(filter: { environment?: string } = {}): Promise<GroupWithCount[]> {
    const groups = await this.groups.find({
      where: filter.environment ? { environment: filter.environment } : {},
      order: { name: 'ASC' },
    });
    const counts = await this.deviceCounts(groups.map((group) => group.id));
    return groups.map((group) => Object.assign(group, { deviceCount: counts.get(group.id) ?? 0 }));
  }

  async getGroup(name: string): Promise<GroupWithCount> {
    const group = await this.groups.findOneBy({ name });
    if (!group) throw groupNotFound(name);
    const counts = await this.deviceCounts([group.id]);
    return Object.assign(group, { deviceCount: counts.get(group.id) ?? 0 });
  }

  /** Replaces the group's maintenance windows ([] removes them); audited. */
  async setMaintenanceWindows(
    name: string,
    windows: MaintenanceWindow[],
    principal: Principal,
  ): Promise<GroupWithCount> {
    for (const [i, window] of windows.entries()) {
      const problem = checkWindow(window);
      if (problem) throw validationFailed(`windows[${i}]: ${problem}`);
    }
    await this.dataSource.transaction(async (manager) => {
      const { affected } = await manager
        .getRepository(DeviceGroup)
        .update({ name }, { maintenanceWindows: windows });
      if (!affected) throw groupNotFound(name);
      await this.audit.record(
        actorOf(principal),
        'group.maintenance_windows',
        'group',
        name,
        { windows },
        manager,
      );
    });
    return this.getGroup(name);
  }

  /** The group goes; its devices stay, without a group (the broker refuses them until moved). */
  async deleteGroup(name: string, principal: Principal): Promise<{ deviceIds: string[] }> {
    let retained: { retained?: string[] } = {};
    const deviceIds = await this.dataSource.transaction(async (manager) => {
      // Locking the group first makes a concurrent move into it wait, then fail its foreign key check.
      const group = await manager
        .getRepository(DeviceGroup)
        .findOne({ where: { name }, lock: { mode: 'pessimistic_write' } });
      if (!group) throw groupNotFound(name);
      // Wrapped in a SELECT: TypeORM returns [rows, count] rather than rows for a bare UPDATE.
      const released: { id: string }[] = await manager.query(
        `WITH released AS (
           UPDATE devices SET group_id = NULL, updated_at = now() WHERE group_id = $1 RETURNING id
         ) SELECT id FROM released`,
        [group.id],
      );
      retained = await this.deleteHooks.retainedOf(manager, 'group', name);
      await manager.getRepository(DeviceGroup).delete({ id: group.id });
      await this.audit.record(
        actorOf(principal),
        'group.delete',
        'group',
        name,
        { environment: group.environment, devices_without_group: released.length },
        manager,
      );
      return released.map((row) => row.id).sort();
    });
    this.credentials.revoke(deviceIds, 'group deleted');
    this.events.emit('group.deleted', { group: name, deviceIds, ...retained });
    return { deviceIds };
  }

  /** Every group that has a desired state, to re-publish the retained messages at start. */
  listAllGroupsWithDesired(): Promise<DeviceGroup[]> {
    return this.groups.find({ where: { desired: Not(IsNull()) }, order: { name: 'ASC' } });
  }

  private async deviceCounts(groupIds: string[]): Promise<Map<string, number>> {
    if (groupIds.length === 0) return new Map();
    const rows: { group_id: string; count: string }[] = await this.dataSource.query(
      'SELECT group_id, count(*) AS count FROM devices WHERE group_id = ANY($1::uuid[]) GROUP BY group_id',
      [groupIds],
    );
    return new Map(rows.map((row) => [row.group_id, Number(row.count)]));
  }
}
