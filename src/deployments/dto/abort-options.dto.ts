// The `abort` option of POST /api/v1/deployments, validated (domain/abort.ts decides).
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { ABORT_ACTIONS, FAILURE_TYPES } from '../domain/abort.js';

export class AbortCriterionDto {
  @ApiProperty({
    enum: FAILURE_TYPES,
    example: 'verification',
    description:
      'download (download_failed, disk_full, too_large), verification (hash_mismatch, bad_signature, unsigned), health_check (load_error, health_check, error_burst), timeout, rolled_back (swapped back by the agent), or any.',
  })
  @IsIn(FAILURE_TYPES)
  failure_type: (typeof FAILURE_TYPES)[number];

  @ApiProperty({
    example: 20,
    minimum: 0.01,
    maximum: 100,
    description: 'Abort when failures of this type reach this percentage of the devices done.',
  })
  @IsNumber()
  @Min(0.01)
  @Max(100)
  threshold_percent: number;

  @ApiPropertyOptional({
    example: 10,
    default: 1,
    description:
      'The criterion applies once at least this many devices are done (staged, active, or failed for good).',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  min_devices_done?: number;
}

export class AbortOptionsDto {
  @ApiProperty({ type: [AbortCriterionDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(FAILURE_TYPES.length)
  @ValidateNested({ each: true })
  @Type(() => AbortCriterionDto)
  criteria: AbortCriterionDto[];

  @ApiPropertyOptional({
    enum: ABORT_ACTIONS,
    default: 'rollback',
    description:
      'rollback: the deployment fails (abort_criteria) and its devices go back; pause: it stops where it is (devices keep what they run) until resumed, and a resume starts the criteria afresh.',
  })
  @IsOptional()
  @IsIn(ABORT_ACTIONS)
  action?: (typeof ABORT_ACTIONS)[number];
}
