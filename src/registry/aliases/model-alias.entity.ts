import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { ModelVersion } from '../model-version.entity.js';

/** A named pointer to one version of a model (`detector@champion`), moved by operators. */
@Entity({ name: 'model_aliases' })
export class ModelAlias {
  /** The model's name (every version of a model shares it). */
  @PrimaryColumn({ type: 'text' })
  name: string;

  @PrimaryColumn({ type: 'text' })
  alias: string;

  /** The version it points at; a version an alias points at cannot be deleted. */
  @Index()
  @Column({ name: 'model_id', type: 'uuid' })
  modelId: string;

  @ManyToOne(() => ModelVersion, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'model_id' })
  model?: ModelVersion;

  @Column({ name: 'moved_by', type: 'text' })
  movedBy: string;

  @Column({ name: 'moved_at', type: 'timestamptz' })
  movedAt: Date;
}

/** One move of an alias: set, moved from one version to another, or removed. Never updated. */
@Entity({ name: 'model_alias_moves' })
@Index(['name', 'alias', 'at'])
export class ModelAliasMove {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  alias: string;

  /** The versions as text: the history stays readable after a version is deleted. */
  @Column({ name: 'from_version', type: 'text', nullable: true })
  fromVersion: string | null;

  @Column({ name: 'to_version', type: 'text', nullable: true })
  toVersion: string | null;

  @Column({ name: 'to_model_id', type: 'uuid', nullable: true })
  toModelId: string | null;

  @Column({ type: 'text' })
  actor: string;

  @Column({ type: 'text', nullable: true })
  reason: string | null;

  @CreateDateColumn({ type: 'timestamptz' })
  at: Date;
}
