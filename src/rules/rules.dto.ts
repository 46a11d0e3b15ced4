import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class HealthCheckDto {
  @ApiProperty({
    enum: ['fps', 'latency_p95', 'memory', 'error_rate', 'map', 'map_floor', 'staging_failures'],
  })
  metric: string;
  @ApiProperty({ enum: ['ok', 'degraded', 'no_data'] }) status: string;
  @ApiProperty({ nullable: true, type: Number }) cohort: number | null;
  @ApiProperty({ nullable: true, type: Number }) baseline: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Change in percent (mAP: points)' })
  change: number | null;
  @ApiProperty() threshold: number;
  @ApiProperty({ example: 'fps 15 fps vs 30 fps (-50 %, limit -20 %)' }) detail: string;
}

export class DeploymentHealthDto {
  @ApiProperty({ format: 'uuid' }) deployment_id: string;
  @ApiProperty({ enum: ['healthy', 'degraded', 'inconclusive'], nullable: true, type: String })
  verdict: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) evaluated_at: string | null;
  @ApiProperty({ type: [HealthCheckDto] }) checks: HealthCheckDto[];
  @ApiProperty({ type: [String] }) reasons: string[];
  @ApiProperty({ enum: ['none', 'rolled_back', 'paused'] }) action: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  window?: Record<string, string>;
  @ApiPropertyOptional() new_version?: string;
  @ApiPropertyOptional({ type: [String] }) baseline_versions?: string[];
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description:
      'The new version over the window: devices, samples, fps, latency_p95, memory_mb, frames, errors, map.',
  })
  cohort?: object | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true })
  baseline?: object | null;
}
