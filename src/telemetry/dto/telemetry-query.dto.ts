import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUUID } from 'class-validator';
import { IsFleetId } from '../../fleet/dto/fleet-validators.js';
import { SERIES_BY, type Series, type SeriesBy } from '../domain/telemetry-query.js';

/**
 * The query of GET /api/v1/telemetry. The filters' shapes are checked here; the range, step and
 * grouping by parseTelemetryRange (domain/telemetry-query.ts), which knows their defaults.
 */
export class TelemetryQueryDto {
  @ApiPropertyOptional({ example: 'cam-1', description: 'Only this device.' })
  @IsOptional()
  @IsFleetId()
  device?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Only this model version (its id, as in GET /api/v1/models/:id).',
  })
  @IsOptional()
  @IsUUID(undefined, { message: 'model_version must be a model version id (a UUID)' })
  model_version?: string;

  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Only windows the devices sent while following this deployment.',
  })
  @IsOptional()
  @IsUUID(undefined, { message: 'deployment must be a deployment id (a UUID)' })
  deployment?: string;

  @ApiPropertyOptional({ example: 'yard-cams', description: 'Only devices of this group.' })
  @IsOptional()
  @IsFleetId()
  group?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-12-07T10:00:00Z',
    description: 'Start (ISO 8601 with a zone, or a date). Default: an hour before `to`.',
  })
  @IsOptional()
  @IsString({ message: 'from must be given once' })
  from?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-12-07T11:00:00Z',
    description: 'End, excluded. Default: now. At most 31 days after `from`.',
  })
  @IsOptional()
  @IsString({ message: 'to must be given once' })
  to?: string;

  @ApiPropertyOptional({
    example: '30s',
    description:
      'Bucket size: seconds (`30`) or `30s`, `5m`, `1h`, `1d`; buckets start at multiples of it since ' +
      'the Unix epoch. Default: the smallest of 10 s, 30 s, 1 m, 5 m, 15 m, 1 h, 6 h, 1 d giving at ' +
      'most 360 buckets; more than 2000 buckets is refused.',
  })
  @IsOptional()
  @IsString({ message: 'step must be given once' })
  step?: string;

  @ApiPropertyOptional({
    enum: SERIES_BY,
    default: 'model_version',
    description: 'A series per model version, or per device and model version.',
  })
  @IsOptional()
  @IsString({ message: 'by must be given once' })
  by?: string;
}

export class TelemetryPointDto {
  @ApiProperty({ format: 'date-time', description: "The bucket's start." }) time: string;
  @ApiProperty({ type: 'integer', description: 'Telemetry windows in the bucket.' })
  windows: number;
  @ApiProperty({ type: 'integer', description: 'Frames inferred (sum).' }) frames: number;
  @ApiProperty({ description: 'Mean FPS of the windows.' }) fps: number;
  @ApiProperty({ description: 'Mean of the windows’ median latency, ms.' }) latency_p50: number;
  @ApiProperty({ description: 'Mean of the windows’ p95 latency, ms.' }) latency_p95: number;
  @ApiProperty({ description: 'Mean memory, MB.' }) memory_mb: number;
  @ApiProperty({ type: 'integer', description: 'Failed inferences (sum).' }) errors: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Mean mAP of the windows that reported one; null when none did.',
  })
  map: number | null;
}

export class TelemetrySeriesDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The device (by=device), else null.',
  })
  device: string | null;
  @ApiProperty({ format: 'uuid', description: "The model version's id." }) model_version: string;
  @ApiProperty({ type: [TelemetryPointDto], description: 'By time; empty buckets left out.' })
  points: TelemetryPointDto[];
}

export class TelemetryResponseDto {
  @ApiProperty({ format: 'date-time' }) from: string;
  @ApiProperty({ format: 'date-time' }) to: string;
  @ApiProperty({ type: 'integer', example: 30 }) step_s: number;
  @ApiProperty({ enum: SERIES_BY }) by: SeriesBy;
  @ApiProperty({
    type: [TelemetrySeriesDto],
    description: 'Sorted by model version, then device.',
  })
  series: TelemetrySeriesDto[];

  static from(
    range: { from: Date; to: Date; stepS: number; by: SeriesBy },
    series: Series[],
  ): TelemetryResponseDto {
    return {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      step_s: range.stepS,
      by: range.by,
      series: series.map((s) => ({
        device: s.device,
        model_version: s.model_version,
        points: s.points.map((p) => ({ ...p, time: p.time.toISOString() })),
      })),
    };
  }
}
