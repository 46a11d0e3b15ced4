import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  ValidateNested,
} from 'class-validator';
import { ID_PATTERN } from '@sentinel/broker';
import { WEEKDAYS, type Weekday } from '../domain/maintenance-windows.js';
import type { GroupWithCount } from '../groups.service.js';
import { IsFleetId, IsLabels } from './fleet-validators.js';

const LABELS_SCHEMA = {
  type: 'object',
  additionalProperties: { type: 'string' },
  example: { site: 'north-yard', camera: 'ptz' },
} as const;

export class CreateGroupDto {
  @ApiProperty({
    example: 'yard-cams',
    pattern: ID_PATTERN,
    description: 'Unique; an MQTT topic level (sentinel/v1/groups/{name}/desired).',
  })
  @IsFleetId()
  name: string;

  @ApiProperty({ example: 'production', pattern: ID_PATTERN })
  @IsFleetId()
  environment: string;

  @ApiPropertyOptional({ ...LABELS_SCHEMA })
  @IsOptional()
  @IsLabels()
  labels?: Record<string, string>;
}

export class ListGroupsQueryDto {
  @ApiPropertyOptional({ example: 'production' })
  @IsOptional()
  @IsFleetId()
  environment?: string;
}

export class MaintenanceWindowDto {
  @ApiProperty({ enum: WEEKDAYS, isArray: true, example: ['mon', 'tue', 'wed', 'thu', 'fri'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(7)
  @IsIn(WEEKDAYS, { each: true })
  days: Weekday[];

  @ApiProperty({ example: '22:00', description: 'HH:MM local time.' })
  @IsString()
  start: string;

  @ApiProperty({
    example: '04:00',
    description: 'HH:MM local time; at or before start: the next day.',
  })
  @IsString()
  end: string;

  @ApiPropertyOptional({ example: 'Europe/Berlin', default: 'UTC' })
  @IsOptional()
  @IsString()
  time_zone?: string;
}

export class SetMaintenanceWindowsDto {
  @ApiProperty({
    type: [MaintenanceWindowDto],
    description: 'Replaces the windows; [] removes them (rollouts may notify at any time).',
  })
  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => MaintenanceWindowDto)
  windows: MaintenanceWindowDto[];
}

export class GroupDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'yard-cams' }) name: string;
  @ApiProperty({ example: 'production' }) environment: string;
  @ApiProperty({ ...LABELS_SCHEMA }) labels: Record<string, string>;
  @ApiProperty({ example: 12, description: 'Devices in the group.' }) device_count: number;
  @ApiProperty({
    type: [MaintenanceWindowDto],
    description: 'When rollouts may notify its devices; empty: any time.',
  })
  maintenance_windows: MaintenanceWindowDto[];
  @ApiProperty({ description: 'seq of the current desired state; 0 before the first.' })
  desired_seq: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: "The group's desired state, as published retained on its MQTT topic.",
  })
  desired: Record<string, unknown> | null;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;

  static from(group: GroupWithCount): GroupDto {
    return {
      id: group.id,
      name: group.name,
      environment: group.environment,
      labels: group.labels,
      device_count: group.deviceCount,
      maintenance_windows: group.maintenanceWindows ?? [],
      desired_seq: group.desiredSeq,
      desired: group.desired,
      created_at: group.createdAt.toISOString(),
      updated_at: group.updatedAt.toISOString(),
    };
  }
}

export class GroupListDto {
  @ApiProperty({ type: [GroupDto] }) items: GroupDto[];
  @ApiProperty() total: number;
}
