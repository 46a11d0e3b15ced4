import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class HealthCheckDto {
  @ApiProperty({
    enum: [
      'fps',
      'latency_p95',
      'memory',
      'error_rate',
      'map',
      'map_floor',
      'staging_failures',
      'agreement',
    ],
    description:
      "agreement (shadow): the candidate's outputs against the serving model's on the same inputs, 0..1, against the deployment's shadow.min_agreement.",
  })
  metric: string;
  @ApiProperty({
    enum: ['ok', 'degraded', 'inconclusive', 'no_data'],
    description:
      'degraded: past the limit (and the floor) and significant; inconclusive: past them but not significant (more data needed).',
  })
  status: string;
  @ApiProperty({ nullable: true, type: Number }) cohort: number | null;
  @ApiProperty({ nullable: true, type: Number }) baseline: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Change in percent (mAP: points)' })
  change: number | null;
  @ApiProperty({
    description:
      'The limit: percent change, mAP points, a maximum share in %, or the mAP floor (0..1).',
  })
  threshold: number;
  @ApiPropertyOptional({
    description: 'The absolute change the metric must also pass (fps, ms, MB).',
  })
  floor?: number;
  @ApiPropertyOptional({
    nullable: true,
    type: Number,
    description: "Welch's one-sided t-test p-value of the new version being worse.",
  })
  p_value?: number | null;
  @ApiPropertyOptional({ description: 'The significance level (rules.alpha).' }) alpha?: number;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'unit (devices: device means, for a baseline of other devices; windows: telemetry windows, for the same devices before the step) and the devices and windows on each side.',
  })
  samples?: object;
  @ApiProperty({
    example:
      'fps 15 fps vs 30 fps (-50 %, limit -10 % and 0.5 fps; p < 0.0001 < 0.01; 12 vs 12 windows on 2 vs 2 devices)',
  })
  detail: string;
}

export class DeploymentHealthDto {
  @ApiProperty({ format: 'uuid' }) deployment_id: string;
  @ApiProperty({ enum: ['healthy', 'degraded', 'inconclusive'], nullable: true, type: String })
  verdict: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) evaluated_at: string | null;
  @ApiProperty({ type: [HealthCheckDto] }) checks: HealthCheckDto[];
  @ApiProperty({ type: [String] }) reasons: string[];
  @ApiProperty({ enum: ['none', 'rolled_back', 'paused'] }) action: string;
  @ApiPropertyOptional({ description: 'The evaluation in the history.' }) id?: string;
  @ApiPropertyOptional({
    enum: ['rolling_out', 'observing', 'shadow'],
    description:
      'shadow: the candidate judged beside the serving model on the same inputs, before any device serves it.',
  })
  stage?: string;
  @ApiPropertyOptional() step_index?: number;
  @ApiPropertyOptional({
    enum: ['outside', 'before', 'shadow'],
    description:
      'outside: the previous version on the devices outside the canary cohort, same window; before: the same devices in the window before the step (blue/green: before the deployment, ahead of staging; taken once); shadow: the serving model on the same inputs of the same devices.',
  })
  baseline_kind?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  window?: Record<string, string>;
  @ApiPropertyOptional() new_version?: string;
  @ApiPropertyOptional({ type: [String] }) baseline_versions?: string[];
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description:
      'The new version over the window: devices, samples, fps, latency_p95, latency_p95_fleet (p95 of the merged latency histograms, null without), memory_mb, frames, errors, map.',
  })
  cohort?: object | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true })
  baseline?: object | null;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description:
      'Stage shadow: the candidate over the shadow phase: devices, windows, samples, dropped (the queue was full), errors, and {n, mean, sd} over the windows of latency_p95 (candidate), active_latency_p95 (serving model, same inputs) and agreement.',
  })
  shadow?: object | null;
}

export class HealthHistoryDto {
  @ApiProperty({ type: [DeploymentHealthDto], description: 'Evaluations, newest first.' })
  items: DeploymentHealthDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}
