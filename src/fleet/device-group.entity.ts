import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { Labels } from './domain/fleet-rules.js';
import type { MaintenanceWindow } from './domain/maintenance-windows.js';

@Entity({ name: 'device_groups' })
export class DeviceGroup {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** An MQTT topic level: `sentinel/v1/groups/{name}/desired`. */
  @Index({ unique: true })
  @Column({ type: 'text', collation: 'C' })
  name: string;

  @Column({ type: 'text' })
  environment: string;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  labels: Labels;

  /** When rollouts may notify its devices (none: any time); rollbacks are never held. */
  @Column({ name: 'maintenance_windows', type: 'jsonb', default: () => "'[]'" })
  maintenanceWindows: MaintenanceWindow[];

  @Column({ name: 'desired_seq', type: 'integer', default: 0 })
  desiredSeq: number;

  /** The group's current desired state: the source of truth for its retained MQTT message. */
  @Column({ type: 'jsonb', nullable: true })
  desired: Record<string, unknown> | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
