import type { LatencyHistogram } from '@sentinel/broker';
import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** The embedded telemetry store: one row per device telemetry window (see TelemetryPoint). */
@Entity({ name: 'telemetry_points' })
@Index(['deployment', 'time'])
@Index(['time'])
export class TelemetryPointRow {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id: string;

  @Column({ type: 'timestamptz' })
  time: Date;

  @Column({ type: 'text' }) device: string;
  @Column({ name: 'group_name', type: 'text' }) groupName: string;
  @Column({ type: 'text' }) environment: string;
  @Column({ type: 'text' }) deployment: string;
  @Column({ name: 'model_id', type: 'text' }) modelId: string;
  @Column({ name: 'model_version', type: 'text' }) modelVersion: string;
  @Column({ type: 'text' }) slot: string;

  @Column({ type: 'integer' }) frames: number;
  @Column({ type: 'double precision' }) fps: number;
  @Column({ name: 'latency_p50', type: 'double precision' }) latencyP50: number;
  @Column({ name: 'latency_p95', type: 'double precision' }) latencyP95: number;
  @Column({ name: 'latency_max', type: 'double precision' }) latencyMax: number;
  @Column({ name: 'memory_mb', type: 'double precision' }) memoryMb: number;
  @Column({ type: 'integer' }) errors: number;
  @Column({ name: 'window_s', type: 'double precision' }) windowS: number;
  @Column({ type: 'double precision', nullable: true }) map: number | null;
  /** The window's latency histogram ([bucket, count] pairs), when the agent sent one. */
  @Column({ name: 'latency_hist', type: 'jsonb', nullable: true })
  latencyHist: LatencyHistogram | null;

  // The window's shadow block (TelemetryPoint.shadow), when the agent sent one; all null otherwise.
  @Column({ name: 'shadow_model_id', type: 'text', nullable: true })
  shadowModelId: string | null;
  @Column({ name: 'shadow_model_version', type: 'text', nullable: true })
  shadowModelVersion: string | null;
  @Column({ name: 'shadow_comparison', type: 'text', nullable: true })
  shadowComparison: string | null;
  @Column({ name: 'shadow_samples', type: 'integer', nullable: true })
  shadowSamples: number | null;
  @Column({ name: 'shadow_dropped', type: 'integer', nullable: true })
  shadowDropped: number | null;
  @Column({ name: 'shadow_errors', type: 'integer', nullable: true })
  shadowErrors: number | null;
  @Column({ name: 'shadow_latency_p50', type: 'double precision', nullable: true })
  shadowLatencyP50: number | null;
  @Column({ name: 'shadow_latency_p95', type: 'double precision', nullable: true })
  shadowLatencyP95: number | null;
  @Column({ name: 'shadow_active_latency_p50', type: 'double precision', nullable: true })
  shadowActiveLatencyP50: number | null;
  @Column({ name: 'shadow_active_latency_p95', type: 'double precision', nullable: true })
  shadowActiveLatencyP95: number | null;
  @Column({ name: 'shadow_agreement', type: 'double precision', nullable: true })
  shadowAgreement: number | null;
}
