import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  MinLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { DEPLOYMENT_PHASES, ID_PATTERN } from '@sentinel/broker';
import { PageQueryDto } from '../../common/page-query.dto.js';
import { IsFleetId } from '../../fleet/dto/fleet-validators.js';
import { DEPLOYMENT_STATUSES, DEPLOYMENT_TYPES, stageOf } from '../domain/rollout.js';
import { describeRules } from '../domain/rules-policy.js';
import type { DeploymentDetail, DeploymentSummary } from '../deployment-views.js';

const RULES_TEXT = describeRules()
  .map((r) => `\`${r.key}\` (default ${r.default}): ${r.description}`)
  .join(' ');

export class CanaryOptionsDto {
  @ApiPropertyOptional({
    type: [Number],
    example: [5, 25, 100],
    description: 'Cohort percentages, increasing, ending at 100. Default 5, 25, 100.',
  })
  @IsOptional()
  @IsNumber({}, { each: true })
  @Min(0.01, { each: true })
  @Max(100, { each: true })
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  steps?: number[];

  @ApiPropertyOptional({ example: 300, description: 'Seconds between steps. Default 300.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 3600)
  step_interval_s?: number;

  @ApiPropertyOptional({
    example: 'yard-canary',
    maxLength: 200,
    description:
      'Cohort salt. Default: the deployment id (a new cohort each time); a fixed salt keeps the same canary devices across deployments.',
  })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  salt?: string;
}

export class CreateDeploymentDto {
  @ApiProperty({ format: 'uuid', description: 'The model version to deploy.' })
  @IsUUID()
  model_id: string;

  @ApiProperty({ example: 'production', pattern: ID_PATTERN })
  @IsFleetId()
  environment: string;

  @ApiProperty({ enum: DEPLOYMENT_TYPES })
  @IsIn(DEPLOYMENT_TYPES)
  deployment_type: (typeof DEPLOYMENT_TYPES)[number];

  @ApiProperty({
    example: 'yard-cams',
    description: 'A group of the environment, or "all" for every group of the environment.',
  })
  @IsFleetId()
  target: string;

  @ApiPropertyOptional({ type: CanaryOptionsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => CanaryOptionsDto)
  canary?: CanaryOptionsDto;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: `Rule overrides for the rules module; unknown keys are refused. ${RULES_TEXT}`,
    example: { fps_drop_pct: 15, window_s: 120 },
  })
  @IsOptional()
  @IsObject()
  rules?: Record<string, unknown>;

  @ApiPropertyOptional({
    default: 300,
    description:
      'Seconds the deployment stays in progress (phase observing) once every device runs the new version (blue/green ' +
      'after its cutover, canary at its last step), judged by the rules against the same devices before; degraded rolls ' +
      'back, healthy succeeds. 0: no observation (it succeeds as soon as every device is on it).',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(7 * 24 * 3600)
  observe_s?: number;

  @ApiPropertyOptional({
    enum: ['succeed', 'pause'],
    default: 'succeed',
    description:
      'What an observation that ends without a verdict (inconclusive: too little telemetry) does: succeed with a ' +
      'warning event, or pause for a person to decide.',
  })
  @IsOptional()
  @IsIn(['succeed', 'pause'])
  observe_inconclusive?: 'succeed' | 'pause';

  @ApiPropertyOptional({
    default: true,
    description: 'Let the rules module roll back on degradation.',
  })
  @IsOptional()
  @IsBoolean()
  auto_rollback?: boolean;

  @ApiPropertyOptional({
    default: 600,
    description: 'Blue/green: longest wait for devices to stage.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3600)
  staging_timeout_s?: number;

  @ApiPropertyOptional({
    default: 900,
    description: 'A device still notified/downloading/verifying after this is failed (timeout).',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3600)
  device_timeout_s?: number;

  @ApiPropertyOptional({
    default: 0.8,
    description: 'Blue/green: share of online devices that must have staged for the cutover.',
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  min_staged_share?: number;

  @ApiPropertyOptional({
    default: 0.2,
    description: 'Share of failed devices above which the deployment fails and rolls back.',
  })
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(1)
  max_failure_share?: number;

  @ApiPropertyOptional({
    default: 3,
    description: 'Automatic retries of a device whose download failed or timed out.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(20)
  max_retries?: number;

  @ApiPropertyOptional({
    default: false,
    description: 'End the active deployment of the same groups (status superseded) instead of 409.',
  })
  @IsOptional()
  @IsBoolean()
  supersede?: boolean;
}

export class ListDeploymentsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: DEPLOYMENT_STATUSES })
  @IsOptional()
  @IsIn(DEPLOYMENT_STATUSES)
  status?: (typeof DEPLOYMENT_STATUSES)[number];

  @ApiPropertyOptional({ example: 'production' })
  @IsOptional()
  @IsFleetId()
  environment?: string;

  @ApiPropertyOptional({ example: 'yard-cams' })
  @IsOptional()
  @IsFleetId()
  group?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  model_id?: string;
}

export class ActionReasonDto {
  @ApiPropertyOptional({ example: 'FPS dropped on the yard cameras', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

class ModelSummaryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() version: string;
}

class DeploymentGroupDto {
  @ApiProperty() name: string;
  @ApiProperty({ format: 'uuid', nullable: true, description: 'What a rollback returns to.' })
  previous_model_id: string | null;
}

class CanaryStateDto {
  @ApiProperty({ type: [Number] }) steps: number[];
  @ApiProperty() step_interval_s: number;
  @ApiProperty() step_index: number;
  @ApiProperty({ description: 'Cohort percentage of the current step.' }) percent: number;
  @ApiProperty() salt: string;
}

class FailedDeviceDto {
  @ApiProperty() device_id: string;
  @ApiProperty({ enum: ['failed', 'rolled_back'] }) phase: string;
  @ApiProperty({ nullable: true, example: 'hash_mismatch' }) reason: string | null;
  @ApiProperty({ nullable: true }) detail: string | null;
  @ApiProperty() attempts: number;
}

class ProgressDto {
  @ApiProperty({ description: 'Devices in the target groups.' }) targets: number;
  @ApiProperty() online: number;
  @ApiProperty({ description: 'Devices in the current step (the cohort for a canary).' })
  participating: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: {
      notified: 0,
      downloading: 1,
      verifying: 0,
      staged: 3,
      active: 0,
      failed: 0,
      rolled_back: 0,
      unreported: 0,
    },
    description: `Devices per phase (${DEPLOYMENT_PHASES.join(', ')}, unreported).`,
  })
  phases: Record<string, number>;
  @ApiProperty({ type: [FailedDeviceDto] }) failed_devices: FailedDeviceDto[];
}

export class DeploymentEventDto {
  @ApiProperty() id: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ example: 'token:ci-nightly' }) actor: string;
  @ApiProperty({ example: 'cutover' }) type: string;
  @ApiProperty({ nullable: true }) from_status: string | null;
  @ApiProperty({ nullable: true }) to_status: string | null;
  @ApiProperty({ nullable: true }) device_id: string | null;
  @ApiProperty({ nullable: true }) reason: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) figures: Record<string, unknown>;
}

export class DeploymentDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: ModelSummaryDto }) model: ModelSummaryDto;
  @ApiProperty() environment: string;
  @ApiProperty({ enum: DEPLOYMENT_TYPES }) deployment_type: string;
  @ApiProperty() target: string;
  @ApiProperty({ type: [DeploymentGroupDto] }) groups: DeploymentGroupDto[];
  @ApiProperty({ enum: DEPLOYMENT_STATUSES }) status: string;
  @ApiProperty({
    enum: ['staging', 'rolling_out', 'observing', 'paused'],
    nullable: true,
    type: String,
    description:
      'Where an active deployment is: staging (blue/green before its cutover), rolling_out (cutover, canary steps), ' +
      'observing (every device on the new version, judged for observe_s), paused; null once finished.',
  })
  phase: string | null;
  @ApiProperty({ nullable: true }) status_reason: string | null;
  @ApiProperty() observe_s: number;
  @ApiProperty({ enum: ['succeed', 'pause'] }) observe_inconclusive: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  observing_since: string | null;
  @ApiPropertyOptional({
    type: [String],
    description:
      'Only in the answer to POST: what the rules will not judge as one might expect (a group smaller than ' +
      'rules.min_devices, a canary step that leaves no device outside its cohort or has none in it).',
  })
  warnings?: string[];
  @ApiProperty({ type: CanaryStateDto, nullable: true }) canary: CanaryStateDto | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) rules: Record<string, unknown>;
  @ApiProperty() auto_rollback: boolean;
  @ApiProperty() staging_timeout_s: number;
  @ApiProperty() device_timeout_s: number;
  @ApiProperty() min_staged_share: number;
  @ApiProperty() max_failure_share: number;
  @ApiProperty() max_retries: number;
  @ApiProperty({ nullable: true, format: 'uuid' }) superseded_by: string | null;
  @ApiProperty() created_by: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
  @ApiProperty({ format: 'date-time', nullable: true }) finished_at: string | null;

  static from(d: DeploymentSummary): DeploymentDto {
    const p = d.deployment.policy;
    return {
      id: d.deployment.id,
      model: d.model,
      environment: d.deployment.environment,
      deployment_type: d.deployment.type,
      target: d.deployment.target,
      groups: d.groups.map((g) => ({ name: g.groupName, previous_model_id: g.previousModelId })),
      status: d.deployment.status,
      phase: stageOf(d.deployment),
      status_reason: d.deployment.statusReason,
      observe_s: p.observeS ?? 0,
      observe_inconclusive: p.observeInconclusive ?? 'succeed',
      observing_since: d.deployment.observingSince?.toISOString() ?? null,
      ...(d.warnings ? { warnings: d.warnings } : {}),
      canary:
        d.deployment.type === 'canary'
          ? {
              steps: p.canarySteps,
              step_interval_s: p.stepIntervalS,
              step_index: d.deployment.stepIndex,
              percent: p.canarySteps[Math.min(d.deployment.stepIndex, p.canarySteps.length - 1)]!,
              salt: d.deployment.cohortSalt,
            }
          : null,
      rules: d.deployment.rules,
      auto_rollback: d.deployment.autoRollback,
      staging_timeout_s: p.stagingTimeoutS,
      device_timeout_s: p.deviceTimeoutS,
      min_staged_share: p.minStagedShare,
      max_failure_share: p.maxFailureShare,
      max_retries: p.maxRetries,
      superseded_by: d.deployment.supersededBy,
      created_by: d.deployment.createdBy,
      created_at: d.deployment.createdAt.toISOString(),
      updated_at: d.deployment.updatedAt.toISOString(),
      finished_at: d.deployment.finishedAt?.toISOString() ?? null,
    };
  }
}

export class DeploymentDetailDto extends DeploymentDto {
  @ApiProperty({ type: ProgressDto }) progress: ProgressDto;
  @ApiProperty({
    type: [DeploymentEventDto],
    description: 'Deployment-level events, oldest first.',
  })
  events: DeploymentEventDto[];

  static fromDetail(d: DeploymentDetail): DeploymentDetailDto {
    return {
      ...DeploymentDto.from(d),
      progress: d.progress,
      events: d.events.map((e) => ({
        id: String(e.id),
        at: e.at.toISOString(),
        actor: e.actor,
        type: e.type,
        from_status: e.fromStatus,
        to_status: e.toStatus,
        device_id: e.deviceId,
        reason: e.reason,
        figures: e.figures,
      })),
    };
  }
}

export class DeploymentListDto {
  @ApiProperty({ type: [DeploymentDto] }) items: DeploymentDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}
