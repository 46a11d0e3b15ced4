import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { ModelVersion } from '../registry/model-version.entity.js';
import { DeviceGroup } from '../fleet/device-group.entity.js';
import type {
  DeploymentStatus,
  DeploymentType,
  HealthVerdict,
  RolloutPolicy,
} from './domain/rollout.js';
import type { Admission } from './domain/rate.js';

@Entity({ name: 'deployments' })
@Index(['status'])
export class Deployment {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'model_id', type: 'uuid' })
  modelId: string;

  @ManyToOne(() => ModelVersion, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'model_id' })
  model?: ModelVersion;

  @Column({ type: 'text' })
  environment: string;

  @Column({ name: 'deployment_type', type: 'text' })
  type: DeploymentType;

  /** A group name or "all" (every group of the environment when it was created). */
  @Column({ type: 'text' })
  target: string;

  /**
   * The named model of the target devices it deploys (docs/protocol.md 6.6): its desired states are
   * the groups' of that name. `default`: the unnamed topics, a one-model device's.
   */
  @Column({ name: 'serve_as', type: 'text', default: 'default' })
  serveAs: string;

  @Column({ type: 'text' })
  status: DeploymentStatus;

  /** Why it ended (failed, rolled back, superseded), in one line. */
  @Column({ name: 'status_reason', type: 'text', nullable: true })
  statusReason: string | null;

  /** The status to return to on resume. */
  @Column({ name: 'paused_from', type: 'text', nullable: true })
  pausedFrom: DeploymentStatus | null;

  @Column({ name: 'step_index', type: 'integer', default: 0 })
  stepIndex: number;

  @Column({ name: 'step_started_at', type: 'timestamptz' })
  stepStartedAt: Date;

  @Column({ name: 'cohort_salt', type: 'text' })
  cohortSalt: string;

  @Column({ type: 'jsonb' })
  policy: RolloutPolicy;

  /** Rule overrides for the rules module (design section 8). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  rules: Record<string, unknown>;

  @Column({ name: 'auto_rollback', type: 'boolean', default: true })
  autoRollback: boolean;

  /**
   * The rules module's latest verdict on the current step (what promotes a step or ends an
   * observation), reported through DeploymentJudging; its figures are the rules module's own.
   */
  @Column({ type: 'text', nullable: true })
  verdict: HealthVerdict | null;

  @Column({ name: 'verdict_at', type: 'timestamptz', nullable: true })
  verdictAt: Date | null;

  /** When the observation phase began (every device on the new version), null outside it. */
  @Column({ name: 'observing_since', type: 'timestamptz', nullable: true })
  observingSince: Date | null;

  /** When the shadow phase began (every online device staged), null outside it. */
  @Column({ name: 'shadow_since', type: 'timestamptz', nullable: true })
  shadowSince: Date | null;

  /**
   * Abort criteria count devices done since this moment: set on resume (the operator has seen the
   * failures so far); null: since the start.
   */
  @Column({ name: 'abort_from', type: 'timestamptz', nullable: true })
  abortFrom: Date | null;

  /**
   * With a rate limit (policy.rate): the devices notified so far, as the cohort published to them,
   * and the pace (domain/rate.ts). Null: no rate limit, every device is told at once.
   */
  @Column({ type: 'jsonb', nullable: true })
  admission: Admission | null;

  /** Scheduled start: pending (nothing published) until then. Null: at once. */
  @Column({ name: 'start_at', type: 'timestamptz', nullable: true })
  startAt: Date | null;

  @Column({ name: 'superseded_by', type: 'uuid', nullable: true })
  supersededBy: string | null;

  @Column({ name: 'created_by', type: 'text' })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;
}

/** A group a deployment targets, with the model it ran before (what a rollback returns to). */
@Entity({ name: 'deployment_groups' })
// At most one active deployment per group and named model: enforced by the database, not only checked.
@Index('deployment_groups_one_active', ['groupId', 'serveAs'], { unique: true, where: 'active' })
export class DeploymentGroup {
  @PrimaryColumn({ name: 'deployment_id', type: 'uuid' })
  deploymentId: string;

  @ManyToOne(() => Deployment, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'deployment_id' })
  deployment?: Deployment;

  @PrimaryColumn({ name: 'group_id', type: 'uuid' })
  groupId: string;

  @ManyToOne(() => DeviceGroup, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id' })
  group?: DeviceGroup;

  @Column({ name: 'group_name', type: 'text' })
  groupName: string;

  @Column({ name: 'previous_model_id', type: 'uuid', nullable: true })
  previousModelId: string | null;

  /** The deployment's serve_as (copied: the one-active index is per group and named model). */
  @Column({ name: 'serve_as', type: 'text', default: 'default' })
  serveAs: string;

  @Column({ type: 'boolean' })
  active: boolean;
}

/** What one device last reported for a deployment, kept after the device goes. */
@Entity({ name: 'deployment_devices' })
export class DeploymentDevice {
  @PrimaryColumn({ name: 'deployment_id', type: 'uuid' })
  deploymentId: string;

  @ManyToOne(() => Deployment, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'deployment_id' })
  deployment?: Deployment;

  @PrimaryColumn({ name: 'device_id', type: 'text', collation: 'C' })
  deviceId: string;

  @Column({ type: 'text' })
  phase: string;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ type: 'text', nullable: true })
  detail: string | null;

  @Column({ type: 'bigint', nullable: true })
  bytes: string | null;

  @Column({ name: 'total_bytes', type: 'bigint', nullable: true })
  totalBytes: string | null;

  @Column({ name: 'in_cohort', type: 'boolean', nullable: true })
  inCohort: boolean | null;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /**
   * A device skipped as incompatible (phase `skipped`): the seq of the per-device desired state the
   * hub set to keep its model. While the device's desired_seq still equals it, the override is the
   * hub's to replace or clear at the next deployment; a pin set since is left alone.
   */
  @Column({ name: 'held_seq', type: 'integer', nullable: true })
  heldSeq: number | null;

  @Column({ name: 'phase_since', type: 'timestamptz' })
  phaseSince: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/** The audit trail of a deployment: every transition, with who, why and the figures. */
@Entity({ name: 'deployment_events' })
@Index(['deploymentId', 'id'])
export class DeploymentEvent {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ name: 'deployment_id', type: 'uuid' })
  deploymentId: string;

  @ManyToOne(() => Deployment, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'deployment_id' })
  deployment?: Deployment;

  @CreateDateColumn({ type: 'timestamptz' })
  at: Date;

  @Column({ type: 'text' })
  actor: string;

  /** created, cutover, step, paused, resumed, promoted, succeeded, failed, rolled_back, superseded, device.phase, device.timeout, device.retry */
  @Column({ type: 'text' })
  type: string;

  @Column({ name: 'from_status', type: 'text', nullable: true })
  fromStatus: string | null;

  @Column({ name: 'to_status', type: 'text', nullable: true })
  toStatus: string | null;

  @Column({ name: 'device_id', type: 'text', nullable: true })
  deviceId: string | null;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  figures: Record<string, unknown>;
}
