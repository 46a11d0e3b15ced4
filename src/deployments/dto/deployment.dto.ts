// What the deployment routes answer.
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DEPLOYMENT_PHASES } from '@sentinel/broker';
import { DEPLOYMENT_STATUSES, DEPLOYMENT_TYPES } from '../domain/rollout.js';
import { stageOf } from '../domain/status.js';
import type { DeploymentDetail, DeploymentSummary } from '../deployment-views.js';
import { RampOptionsDto } from './rate-options.dto.js';

class ModelSummaryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() version: string;
}

class DeploymentGroupDto {
  @ApiProperty() name: string;
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'What a rollback returns to.',
  })
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
  @ApiProperty({ type: String, nullable: true, example: 'hash_mismatch' }) reason: string | null;
  @ApiProperty({ type: String, nullable: true }) detail: string | null;
  @ApiProperty() attempts: number;
}

class DeferredDeviceDto {
  @ApiProperty() device_id: string;
  @ApiProperty({ type: String, nullable: true, example: 'update_locked' }) reason: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'recording',
    description: "The application's reason for its update lock.",
  })
  detail: string | null;
  @ApiProperty({ format: 'date-time', description: 'Since when it defers.' }) since: string;
}

class SkippedDeviceDto {
  @ApiProperty() device_id: string;
  @ApiProperty({ example: 'incompatible' }) reason: string;
  @ApiProperty({ example: 'label camera:ip67 missing; memory 512 MiB < 1024 MiB' })
  detail: string;
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
      deferred: 0,
      active: 0,
      failed: 0,
      rolled_back: 0,
      unreported: 0,
    },
    description: `Devices per phase (${DEPLOYMENT_PHASES.join(', ')}, unreported).`,
  })
  phases: Record<string, number>;
  @ApiProperty({ type: [FailedDeviceDto] }) failed_devices: FailedDeviceDto[];
  @ApiPropertyOptional({
    type: [DeferredDeviceDto],
    description: 'Devices whose application holds the update lock, deferring the swap.',
  })
  deferred_devices?: DeferredDeviceDto[];
  @ApiProperty({
    type: [SkippedDeviceDto],
    description:
      'Devices of the target groups the deployment skipped because they cannot run the model ' +
      '(reason incompatible): they keep their model, and are in none of the figures above.',
  })
  skipped_devices: SkippedDeviceDto[];
}

export class DeploymentEventDto {
  @ApiProperty() id: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ example: 'token:ci-nightly' }) actor: string;
  @ApiProperty({ example: 'cutover' }) type: string;
  @ApiProperty({ type: String, nullable: true }) from_status: string | null;
  @ApiProperty({ type: String, nullable: true }) to_status: string | null;
  @ApiProperty({ type: String, nullable: true }) device_id: string | null;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) figures: Record<string, unknown>;
}

export class RateStateDto {
  @ApiProperty({ example: 100 }) max_per_minute: number;
  @ApiProperty({ type: RampOptionsDto, nullable: true }) ramp: RampOptionsDto | null;
  @ApiProperty({
    example: 37.5,
    description:
      'The cohort told so far: devices whose bucket (see docs/protocol.md, cohorts) is below notified_percent x 100. The deployment progress counts only these as participating.',
  })
  notified_percent: number;
}

export class ShadowStateDto {
  @ApiProperty({ example: 0.1 }) sample_rate: number;
  @ApiProperty({ example: 300 }) duration_s: number;
  @ApiProperty({ example: 0.9 }) min_agreement: number;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      'When the shadow phase began (every online device staged); null before it. Its verdicts are in GET /api/v1/deployments/:id/health (stage shadow).',
  })
  since: string | null;
}

export class DeploymentDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ type: ModelSummaryDto }) model: ModelSummaryDto;
  @ApiProperty() environment: string;
  @ApiProperty({ enum: DEPLOYMENT_TYPES }) deployment_type: string;
  @ApiProperty() target: string;
  @ApiProperty({
    example: 'default',
    description:
      "The named model of the groups' devices it deploys (docs/protocol.md 6.6); `default`: the model of a one-model device.",
  })
  serve_as: string;
  @ApiProperty({ type: [DeploymentGroupDto] }) groups: DeploymentGroupDto[];
  @ApiProperty({ enum: DEPLOYMENT_STATUSES }) status: string;
  @ApiProperty({
    enum: ['staging', 'shadow', 'rolling_out', 'observing', 'paused'],
    nullable: true,
    type: String,
    description:
      'Where an active deployment is: staging (blue/green before its cutover, a canary with shadow before its first step), shadow (staged devices run the candidate beside the serving model), rolling_out (cutover, canary steps), ' +
      'observing (every device on the new version, judged for observe_s), paused; null once finished.',
  })
  phase: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'Why it is where it is; while a scheduled start or a maintenance window holds it, what it waits for and until when.',
  })
  status_reason: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Scheduled start (pending until then); null: at once.',
  })
  start_at: string | null;
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
  @ApiProperty({
    type: RateStateDto,
    nullable: true,
    description: 'The notification rate limit and how far it has got; null: none.',
  })
  rate: RateStateDto | null;
  @ApiProperty({
    type: ShadowStateDto,
    nullable: true,
    description: 'Shadow verification asked for; null: none.',
  })
  shadow: ShadowStateDto | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) rules: Record<string, unknown>;
  @ApiProperty() auto_rollback: boolean;
  @ApiProperty() staging_timeout_s: number;
  @ApiProperty() device_timeout_s: number;
  @ApiProperty() min_staged_share: number;
  @ApiProperty() max_failure_share: number;
  @ApiProperty() max_retries: number;
  @ApiPropertyOptional({ description: 'Absent: devices defer as long as the update lock is held.' })
  max_deferral_s?: number;
  @ApiProperty({ type: String, nullable: true, format: 'uuid' }) superseded_by: string | null;
  @ApiProperty() created_by: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  finished_at: string | null;

  static from(d: DeploymentSummary): DeploymentDto {
    const p = d.deployment.policy;
    return {
      id: d.deployment.id,
      model: d.model,
      environment: d.deployment.environment,
      deployment_type: d.deployment.type,
      target: d.deployment.target,
      serve_as: d.deployment.serveAs,
      groups: d.groups.map((g) => ({ name: g.groupName, previous_model_id: g.previousModelId })),
      status: d.deployment.status,
      phase: stageOf(d.deployment),
      status_reason: d.deployment.statusReason,
      start_at: d.deployment.startAt?.toISOString() ?? null,
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
      rate: p.rate
        ? {
            max_per_minute: p.rate.maxPerMinute,
            ramp: p.rate.ramp
              ? {
                  base_per_minute: p.rate.ramp.basePerMinute,
                  factor: p.rate.ramp.factor,
                  every_succeeded: p.rate.ramp.everySucceeded,
                }
              : null,
            notified_percent: d.deployment.admission?.percent ?? 100,
          }
        : null,
      shadow: p.shadow
        ? {
            sample_rate: p.shadow.sampleRate,
            duration_s: p.shadow.durationS,
            min_agreement: p.shadow.minAgreement,
            since: d.deployment.shadowSince?.toISOString() ?? null,
          }
        : null,
      rules: d.deployment.rules,
      auto_rollback: d.deployment.autoRollback,
      staging_timeout_s: p.stagingTimeoutS,
      device_timeout_s: p.deviceTimeoutS,
      min_staged_share: p.minStagedShare,
      max_failure_share: p.maxFailureShare,
      max_retries: p.maxRetries,
      ...(p.maxDeferralS !== undefined ? { max_deferral_s: p.maxDeferralS } : {}),
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
