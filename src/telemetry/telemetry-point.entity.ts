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
}
