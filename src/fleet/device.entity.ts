import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import { DeviceGroup } from './device-group.entity.js';
import type { Labels } from './domain/fleet-rules.js';

@Entity({ name: 'devices' })
export class Device {
  /** The device id: also its MQTT user name, client id and topic level. */
  // Collation "C": byte order, so lists and pages come out the same on every server's locale.
  @PrimaryColumn({ type: 'text', collation: 'C' })
  id: string;

  @Column({ type: 'text' })
  name: string;

  /** Null once its group is deleted: the broker then refuses the device until it is moved. */
  @Index()
  @Column({ name: 'group_id', type: 'uuid', nullable: true })
  groupId: string | null;

  @ManyToOne(() => DeviceGroup, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'group_id' })
  group?: DeviceGroup | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  labels: Labels;

  /** sha256 hex of the secret (see domain/device-secret.ts for why that is enough). */
  @Column({ name: 'credential_hash', type: 'char', length: 64 })
  credentialHash: string;

  /** The same secret in Mosquitto's password-file form, for an external Mosquitto. */
  @Column({ name: 'mosquitto_hash', type: 'text' })
  mosquittoHash: string;

  @Column({ name: 'credential_rotated_at', type: 'timestamptz', default: () => 'now()' })
  credentialRotatedAt: Date;

  @Column({ type: 'boolean', default: false })
  online: boolean;

  @Column({ name: 'last_seen_at', type: 'timestamptz', nullable: true })
  lastSeenAt: Date | null;

  /** The last state message the device sent. */
  @Column({ type: 'jsonb', nullable: true })
  reported: Record<string, unknown> | null;

  /**
   * What the device last said it can run (the `capabilities` of its state); kept when a report
   * without them comes (its Last Will, an older agent). Null: never reported.
   */
  @Column({ type: 'jsonb', nullable: true })
  capabilities: Record<string, unknown> | null;

  @Column({ name: 'agent_version', type: 'text', nullable: true })
  agentVersion: string | null;

  /** A per-device override of the group's desired state (pin, single-device test). */
  @Column({ type: 'jsonb', nullable: true })
  desired: Record<string, unknown> | null;

  @Column({ name: 'desired_seq', type: 'integer', default: 0 })
  desiredSeq: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
