import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { STAGES, type Stage } from '../../registry/domain/model-rules.js';

/** The stage gates of one environment (domain/gates.ts). An environment without a row has none. */
@Entity({ name: 'environment_gates' })
export class EnvironmentGate {
  @PrimaryColumn({ type: 'text' })
  environment: string;

  @Column({
    name: 'required_stage',
    type: 'enum',
    enum: STAGES,
    enumName: 'model_stage',
    nullable: true,
  })
  requiredStage: Stage | null;

  @Column({ name: 'require_success_in', type: 'text', nullable: true })
  requireSuccessIn: string | null;

  @Column({ name: 'updated_by', type: 'text' })
  updatedBy: string;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
