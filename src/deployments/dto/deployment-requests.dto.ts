// What POST /api/v1/deployments, the list's query and the actions take, validated.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MODEL_REF_HELP } from '../../registry/domain/model-ref.js';
import { IsModelRef } from '../../registry/dto/model-ref.validator.js';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
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
import { ID_PATTERN } from '@sentinel/broker';
import { PageQueryDto } from '../../common/page-query.dto.js';
import { IsFleetId } from '../../fleet/dto/fleet-validators.js';
import { DEPLOYMENT_STATUSES, DEPLOYMENT_TYPES } from '../domain/rollout.js';
import { describeRules } from '../domain/rules-policy.js';
import { AbortOptionsDto } from './abort-options.dto.js';
import { RateOptionsDto } from './rate-options.dto.js';
import { ShadowOptionsDto } from './shadow-options.dto.js';

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
  @ApiProperty({
    example: 'detector@2.0.0',
    description: `The model version to deploy: ${MODEL_REF_HELP}.`,
  })
  @IsModelRef()
  model_id: string;

  @ApiProperty({ example: 'production', pattern: ID_PATTERN })
  @IsFleetId()
  environment: string;

  // canary: the example's `canary` options only apply to it (a pre-filled blue-green would be a 400).
  @ApiProperty({ enum: DEPLOYMENT_TYPES, example: 'canary' })
  @IsIn(DEPLOYMENT_TYPES)
  deployment_type: (typeof DEPLOYMENT_TYPES)[number];

  @ApiProperty({
    example: 'yard-cams',
    description: 'A group of the environment, or "all" for every group of the environment.',
  })
  @IsFleetId()
  target: string;

  @ApiPropertyOptional({
    example: 'classifier',
    default: 'default',
    pattern: ID_PATTERN,
    description:
      "The named model of the groups' devices this deployment replaces (docs/protocol.md 6.6): each name has its own desired state, slots and at most one active deployment per group. `default` is the model of a one-model device.",
  })
  @IsOptional()
  @IsFleetId()
  serve_as?: string;

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
    description:
      'Longest a device may defer the swap while its application holds the update lock (counted from ' +
      'its first deferral); 0: no deferral. Absent: as long as the lock is held, and the desired state ' +
      'carries no max_deferral_s (agents before deferral refuse it). A deferred device is timed out ' +
      'after device_timeout_s plus this. Rollbacks are never deferred.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(365 * 24 * 3600)
  max_deferral_s?: number;

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

  @ApiPropertyOptional({
    default: false,
    description:
      "Deploy although the environment's stage gates hold the version (GET /api/v1/gates); admin tokens only. The gates it passed over are recorded in the deployment's created event.",
  })
  @IsOptional()
  @IsBoolean()
  override_gates?: boolean;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-12-24T22:00:00Z',
    description:
      'Scheduled start: the deployment stays pending, notifying no device, until then (and until every target group is inside a maintenance window). Absent: at once.',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  start_at?: string;

  @ApiPropertyOptional({
    type: AbortOptionsDto,
    description:
      'Abort criteria by failure type: stop when failures of a type reach a percentage of the devices done, once enough are done. Checked besides max_failure_share.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => AbortOptionsDto)
  abort?: AbortOptionsDto;

  @ApiPropertyOptional({
    type: RateOptionsDto,
    description:
      'Notification rate: at most max_per_minute devices told to download in any minute, optionally ramping up as devices succeed. The staging timeout (blue/green) and the step interval (canary) count from the moment the last device of the step is told. Absent: every device at once.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => RateOptionsDto)
  rate?: RateOptionsDto;

  @ApiPropertyOptional({
    type: ShadowOptionsDto,
    description:
      'Shadow verification before any device serves the new version: staged devices run it beside the serving model on a sample of the same inputs for duration_s; the rules judge latency, errors and output agreement; degraded stops the deployment (rolls back, or pauses with auto_rollback off), healthy cuts over (a canary starts its first step). Absent: none.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => ShadowOptionsDto)
  shadow?: ShadowOptionsDto;
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

  @ApiPropertyOptional({
    example: 'classifier',
    description: 'Only deployments of this named model.',
  })
  @IsOptional()
  @IsFleetId()
  serve_as?: string;
}

export class ActionReasonDto {
  @ApiPropertyOptional({ example: 'FPS dropped on the yard cameras', maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}
