import {
  Column,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { Deployment } from '../deployments/deployment.entity.js';

/** Every evaluation of a deployment's health by the rules module, with its whole report. */
@Entity({ name: 'deployment_health' })
@Index(['deploymentId', 'id'])
export class HealthEvaluation {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ name: 'deployment_id', type: 'uuid' })
  deploymentId: string;

  @ManyToOne(() => Deployment, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'deployment_id' })
  deployment?: Deployment;

  @Column({ name: 'evaluated_at', type: 'timestamptz' })
  evaluatedAt: Date;

  @Column({ name: 'step_index', type: 'integer' })
  stepIndex: number;

  /** rolling_out or observing: where the deployment was when judged. */
  @Column({ type: 'text' })
  stage: string;

  @Column({ type: 'text' })
  verdict: string;

  /** none, rolled_back or paused. */
  @Column({ type: 'text' })
  action: string;

  /** The whole evaluation as GET /deployments/:id/health shows it. */
  @Column({ type: 'jsonb' })
  report: Record<string, unknown>;
}

/**
 * The baseline of a step that is judged against the same devices before it (blue/green after its
 * cutover, a canary step with no device left outside its cohort): taken once, from the window
 * before the step, and kept, so every evaluation of the step compares with the same figures.
 */
@Entity({ name: 'deployment_baselines' })
export class StepBaseline {
  @PrimaryColumn({ name: 'deployment_id', type: 'uuid' })
  deploymentId: string;

  @ManyToOne(() => Deployment, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'deployment_id' })
  deployment?: Deployment;

  @PrimaryColumn({ name: 'step_index', type: 'integer' })
  stepIndex: number;

  @Column({ name: 'window_from', type: 'timestamptz' })
  windowFrom: Date;

  @Column({ name: 'window_to', type: 'timestamptz' })
  windowTo: Date;

  /** The previous version(s) on the step's devices in that window; null when none reported. */
  @Column({ type: 'jsonb', nullable: true })
  figures: Record<string, unknown> | null;
}
