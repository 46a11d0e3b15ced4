import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { DeviceGroup } from '../fleet/device-group.entity.js';
import { Device } from '../fleet/device.entity.js';

/**
 * The desired state of one named model (docs/protocol.md 6.6) of a group or of a device (an
 * override), the source of truth for its retained message on `.../models/{name}/desired`. The
 * `default` model's stay in device_groups.desired and devices.desired. Written only by
 * DesiredStateService; a row goes with its group or device. `seq` only grows (a cleared override
 * keeps its row with `desired` null).
 */
@Entity({ name: 'named_desired_states' })
@Index('named_desired_states_group', ['groupId', 'name'], { unique: true })
@Index('named_desired_states_device', ['deviceId', 'name'], { unique: true })
export class NamedDesiredState {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  /** Set for a group's state (device_id null). */
  @Column({ name: 'group_id', type: 'uuid', nullable: true })
  groupId: string | null;

  @ManyToOne(() => DeviceGroup, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group?: DeviceGroup;

  /** Set for a device's override (group_id null). */
  @Column({ name: 'device_id', type: 'text', collation: 'C', nullable: true })
  deviceId: string | null;

  @ManyToOne(() => Device, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'device_id' })
  device?: Device;

  /** The model name (never `default`). */
  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'integer', default: 0 })
  seq: number;

  @Column({ type: 'jsonb', nullable: true })
  desired: Record<string, unknown> | null;
}
