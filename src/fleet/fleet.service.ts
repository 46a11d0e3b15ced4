import { Injectable } from '@nestjs/common';
import { DataSource, type Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service.js';
import { actorOf, type Principal } from '../auth/auth.decorators.js';
import { DeviceCredentials } from './device-credentials.js';
import { DeviceGroup } from './device-group.entity.js';
import { Device } from './device.entity.js';
import { hashDeviceSecret, newDeviceSecret } from './domain/device-secret.js';
import {
  checkDeviceId,
  checkDeviceName,
  checkFleetId,
  checkLabels,
  type Labels,
} from './domain/fleet-rules.js';
import { mosquittoPasswordHash } from './domain/mosquitto-passwd.js';
import { FleetDeleteHooks } from './delete-hooks.js';
import { FleetEvents } from './fleet-events.js';
import {
  assertValid,
  deviceExists,
  FOREIGN_KEY_VIOLATION,
  UNIQUE_VIOLATION,
  violates,
  deviceNotFound,
  unknownGroup,
} from './fleet.errors.js';

export interface NewDevice {
  id: string;
  /** Defaults to the id. */
  name?: string;
  group: string;
  labels?: Labels;
}

export interface DeviceChanges {
  name?: string;
  /** Moves the device to this (existing) group. */
  group?: string;
  /** Replaces the labels. */
  labels?: Labels;
}

export interface DeviceFilter {
  group?: string;
  environment?: string;
  online?: boolean;
  limit: number;
  offset: number;
}

/** A device with its group loaded (null when it has none). */
export type DeviceWithGroup = Device & { group: DeviceGroup | null };

/** A device and its secret, which exists in clear only in this value: show it once. */
export interface IssuedCredentials {
  device: DeviceWithGroup;
  secret: string;
}

/**
 * Devices and their MQTT credentials (groups are GroupsService's). Every change is audited (never
 * with a secret); changes that live MQTT sessions must follow drop the device's cached credentials
 * and are announced on FleetEvents after they commit.
 */
@Injectable()
export class FleetService {
  private readonly groups: Repository<DeviceGroup>;
  private readonly devices: Repository<Device>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly credentials: DeviceCredentials,
    private readonly events: FleetEvents,
    private readonly deleteHooks: FleetDeleteHooks,
  ) {
    this.groups = dataSource.getRepository(DeviceGroup);
    this.devices = dataSource.getRepository(Device);
  }

  async createDevice(input: NewDevice, principal: Principal): Promise<IssuedCredentials> {
    const labels = input.labels ?? {};
    const name = input.name ?? input.id;
    assertValid(
      checkDeviceId('id', input.id),
      checkDeviceName(name),
      checkFleetId('group', input.group),
      checkLabels('labels', labels),
    );
    const group = await this.groups.findOneBy({ name: input.group });
    if (!group) throw unknownGroup(input.group);
    const secret = newDeviceSecret();
    const mosquittoHash = await mosquittoPasswordHash(secret);
    try {
      await this.dataSource.transaction(async (manager) => {
        // insert, not save: save() would quietly update a device that already has this id.
        await manager.getRepository(Device).insert({
          id: input.id,
          name,
          groupId: group.id,
          labels,
          credentialHash: hashDeviceSecret(secret),
          mosquittoHash,
        });
        await this.audit.record(
          actorOf(principal),
          'device.create',
          'device',
          input.id,
          { name, group: group.name, labels },
          manager,
        );
      });
    } catch (error) {
      if (violates(error, UNIQUE_VIOLATION)) throw deviceExists(input.id);
      if (violates(error, FOREIGN_KEY_VIOLATION)) throw unknownGroup(input.group);
      throw error;
    }
    this.credentials.invalidate(input.id);
    this.events.emit('device.created', { deviceId: input.id });
    return { device: await this.getDevice(input.id), secret };
  }

  async listDevices(filter: DeviceFilter): Promise<{ items: DeviceWithGroup[]; total: number }> {
    const query = this.devices
      .createQueryBuilder('d')
      .leftJoinAndSelect('d.group', 'g')
      .orderBy('d.id', 'ASC');
    if (filter.group !== undefined) query.andWhere('g.name = :group', { group: filter.group });
    if (filter.environment !== undefined) {
      query.andWhere('g.environment = :environment', { environment: filter.environment });
    }
    if (filter.online !== undefined)
      query.andWhere('d.online = :online', { online: filter.online });
    // A device has at most one group, so the join cannot multiply rows: plain LIMIT/OFFSET is right.
    const [items, total] = await query.limit(filter.limit).offset(filter.offset).getManyAndCount();
    return { items: items.map(withGroup), total };
  }

  async getDevice(id: string): Promise<DeviceWithGroup> {
    const device = await this.devices.findOne({ where: { id }, relations: { group: true } });
    if (!device) throw deviceNotFound(id);
    return withGroup(device);
  }

  async updateDevice(
    id: string,
    changes: DeviceChanges,
    principal: Principal,
  ): Promise<DeviceWithGroup> {
    assertValid(
      changes.name !== undefined ? checkDeviceName(changes.name) : null,
      changes.group !== undefined ? checkFleetId('group', changes.group) : null,
      changes.labels !== undefined ? checkLabels('labels', changes.labels) : null,
    );
    let move: { from: string | null; to: string } | null;
    try {
      move = await this.dataSource.transaction(async (manager) => {
        const devices = manager.getRepository(Device);
        const groups = manager.getRepository(DeviceGroup);
        const device = await devices.findOne({
          where: { id },
          lock: { mode: 'pessimistic_write' },
        });
        if (!device) throw deviceNotFound(id);
        const current = device.groupId ? await groups.findOneBy({ id: device.groupId }) : null;
        const patch: Partial<Pick<Device, 'name' | 'groupId' | 'labels'>> = {};
        let moved: { from: string | null; to: string } | null = null;
        if (changes.group !== undefined && changes.group !== current?.name) {
          const target = await groups.findOneBy({ name: changes.group });
          if (!target) throw unknownGroup(changes.group);
          patch.groupId = target.id;
          moved = { from: current?.name ?? null, to: target.name };
        }
        if (changes.name !== undefined) patch.name = changes.name;
        if (changes.labels !== undefined) patch.labels = changes.labels;
        if (Object.keys(patch).length === 0) return null;
        await devices.update({ id }, patch);
        await this.audit.record(
          actorOf(principal),
          moved ? 'device.move' : 'device.update',
          'device',
          id,
          {
            before: { name: device.name, group: current?.name ?? null, labels: device.labels },
            changes,
          },
          manager,
        );
        return moved;
      });
    } catch (error) {
      if (violates(error, FOREIGN_KEY_VIOLATION)) throw unknownGroup(changes.group ?? '');
      throw error;
    }
    if (move) {
      this.credentials.revoke([id], 'moved to another group');
      this.events.emit('device.moved', { deviceId: id, ...move });
    } else {
      this.events.emit('device.updated', { deviceId: id });
    }
    return this.getDevice(id);
  }

  /** A new secret replaces the old one at once; sessions logged in with the old one are ended. */
  async rotateCredentials(id: string, principal: Principal): Promise<IssuedCredentials> {
    const secret = newDeviceSecret();
    const mosquittoHash = await mosquittoPasswordHash(secret);
    await this.dataSource.transaction(async (manager) => {
      const result = await manager.getRepository(Device).update(
        { id },
        {
          credentialHash: hashDeviceSecret(secret),
          mosquittoHash,
          credentialRotatedAt: () => 'now()',
        },
      );
      if (!result.affected) throw deviceNotFound(id);
      await this.audit.record(
        actorOf(principal),
        'device.rotate_credentials',
        'device',
        id,
        {},
        manager,
      );
    });
    this.credentials.revoke([id], 'credentials rotated');
    this.events.emit('device.credentials_rotated', { deviceId: id });
    return { device: await this.getDevice(id), secret };
  }

  async deleteDevice(id: string, principal: Principal): Promise<void> {
    let retained: { retained?: string[] } = {};
    await this.dataSource.transaction(async (manager) => {
      const device = await manager
        .getRepository(Device)
        .findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!device) throw deviceNotFound(id);
      retained = await this.deleteHooks.retainedOf(manager, 'device', id);
      await manager.getRepository(Device).delete({ id });
      await this.audit.record(
        actorOf(principal),
        'device.delete',
        'device',
        id,
        { name: device.name, group_id: device.groupId },
        manager,
      );
    });
    this.credentials.revoke([id], 'deleted');
    this.events.emit('device.deleted', { deviceId: id, ...retained });
  }
}

function withGroup(device: Device): DeviceWithGroup {
  return Object.assign(device, { group: device.group ?? null });
}
