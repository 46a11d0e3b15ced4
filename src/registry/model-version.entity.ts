import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import type { ModelFormat } from './domain/model-format.js';
import type { OnnxHeader } from './domain/onnx-header.js';
import { STAGES, type Stage } from './domain/model-rules.js';

export interface SignatureRecord {
  key_hint: string;
  kind: 'message_signature' | 'dsse';
  bundle_media_type: string;
  verified_at: string;
}

@Entity({ name: 'model_versions' })
@Index(['name', 'version'], { unique: true })
@Index(['sha256'])
export class ModelVersion {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  /** Exactly as pushed (semver, nightly date or CalVer). */
  @Column({ type: 'text' })
  version: string;

  /** versionSortKey(version): its byte order (collation C) is the version order (list ?sort=version). */
  @Column({ name: 'version_key', type: 'text', collation: 'C' })
  versionKey: string;

  @Column({ name: 'model_type', type: 'text' })
  modelType: string;

  @Column({ type: 'text' })
  framework: string;

  @Column({ type: 'enum', enum: STAGES, enumName: 'model_stage' })
  stage: Stage;

  @Column({ type: 'char', length: 64 })
  sha256: string;

  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  size: number;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: Record<string, unknown>;

  /** The file format detected from the bytes (only onnx runs on the agents). */
  @Column({ type: 'text', default: 'onnx' })
  format: ModelFormat;

  /** The ONNX header; null for the other formats. */
  @Column({ type: 'jsonb', nullable: true })
  onnx: OnnxHeader | null;

  @Column({ type: 'text', array: true, default: () => "'{}'" })
  tags: string[];

  @Column({ name: 'parent_id', type: 'uuid', nullable: true })
  parentId: string | null;

  @ManyToOne(() => ModelVersion, { onDelete: 'SET NULL', nullable: true })
  @JoinColumn({ name: 'parent_id' })
  parent?: ModelVersion | null;

  /** The Sigstore bundle as pushed, kept verbatim so devices can verify it themselves. */
  @Column({ name: 'signature_bundle', type: 'jsonb', nullable: true })
  signatureBundle: Record<string, unknown> | null;

  @Column({ type: 'jsonb', nullable: true })
  signature: SignatureRecord | null;

  @Column({ name: 'created_by', type: 'text' })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
