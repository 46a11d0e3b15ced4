import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Length } from 'class-validator';
import { ID_PATTERN } from '@sentinel/broker';
import { PageQueryDto } from '../../common/page-query.dto.js';
import type { DeviceWithGroup, IssuedCredentials } from '../fleet.service.js';
import { namedModelsOf } from '../domain/named-models.js';
import { IsDeviceId, IsFleetId, IsLabels } from './fleet-validators.js';

const LABELS_SCHEMA = {
  type: 'object',
  additionalProperties: { type: 'string' },
  example: { site: 'north-yard', model: 'jetson-orin' },
} as const;

export class CreateDeviceDto {
  @ApiProperty({
    example: 'cam-0042',
    pattern: ID_PATTERN,
    description: 'Unique; also the MQTT user name and client id. "me" is reserved.',
  })
  @IsDeviceId()
  id: string;

  @ApiPropertyOptional({ example: 'North gate camera', description: 'Defaults to the id.' })
  @IsOptional()
  @IsString({ message: 'name must be a string' })
  @Length(1, 200, { message: 'name must be 1-200 characters' })
  name?: string;

  @ApiProperty({ example: 'yard-cams', description: 'An existing group.' })
  @IsFleetId()
  group: string;

  @ApiPropertyOptional({ ...LABELS_SCHEMA })
  @IsOptional()
  @IsLabels()
  labels?: Record<string, string>;
}

export class UpdateDeviceDto {
  @ApiPropertyOptional({ example: 'North gate camera' })
  @IsOptional()
  @IsString({ message: 'name must be a string' })
  @Length(1, 200, { message: 'name must be 1-200 characters' })
  name?: string;

  @ApiPropertyOptional({
    example: 'yard-cams',
    description: 'Moves the device to this existing group; its MQTT session is ended.',
  })
  @IsOptional()
  @IsFleetId()
  group?: string;

  @ApiPropertyOptional({ ...LABELS_SCHEMA, description: 'Replaces the labels.' })
  @IsOptional()
  @IsLabels()
  labels?: Record<string, string>;
}

export class ListDevicesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'yard-cams' }) @IsOptional() @IsFleetId() group?: string;
  @ApiPropertyOptional({ example: 'production' })
  @IsOptional()
  @IsFleetId()
  environment?: string;
  @ApiPropertyOptional({ enum: ['true', 'false'] })
  @IsOptional()
  @IsIn(['true', 'false'], { message: 'online must be true or false' })
  online?: 'true' | 'false';
}

class NamedSlotDto {
  @ApiProperty({ format: 'uuid' }) model_id: string;
  @ApiProperty({ example: '2.0.0' }) version: string;
  @ApiProperty() loaded: boolean;
}

class NamedSlotsDto {
  @ApiProperty({ type: NamedSlotDto, nullable: true }) blue: NamedSlotDto | null;
  @ApiProperty({ type: NamedSlotDto, nullable: true }) green: NamedSlotDto | null;
}

class NamedProgressDto {
  @ApiProperty({ type: String, nullable: true }) deployment_id: string | null;
  @ApiProperty({ example: 'active' }) phase: string;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
}

export class NamedModelDto {
  @ApiProperty({ example: 'classifier' }) name: string;
  @ApiProperty({ enum: ['blue', 'green'], nullable: true, type: String })
  active_slot: 'blue' | 'green' | null;
  @ApiProperty({ type: NamedSlotsDto }) slots: NamedSlotsDto;
  @ApiProperty({
    type: NamedProgressDto,
    nullable: true,
    description: 'The progress of the deployment it follows, as reported.',
  })
  deployment: NamedProgressDto | null;
}

export class DeviceDto {
  @ApiProperty({ example: 'cam-0042' }) id: string;
  @ApiProperty({ example: 'North gate camera' }) name: string;
  @ApiProperty({
    example: 'yard-cams',
    nullable: true,
    type: String,
    description:
      'null once the group was deleted: the broker refuses the device until it is moved.',
  })
  group: string | null;
  @ApiProperty({ example: 'production', nullable: true, type: String })
  environment: string | null;
  @ApiProperty({ ...LABELS_SCHEMA }) labels: Record<string, string>;
  @ApiProperty({ description: 'Whether the device is connected, as it last reported.' })
  online: boolean;
  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  last_seen_at: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: 'The last state message the device sent (docs/protocol/device-state.json).',
  })
  reported: Record<string, unknown> | null;
  @ApiProperty({
    type: [NamedModelDto],
    description:
      'The named models the device serves besides `default` (docs/protocol.md 6.6), from its last report (`reported.models`); empty for a one-model agent.',
  })
  models: NamedModelDto[];
  @ApiProperty({ example: '0.3.1', nullable: true, type: String }) agent_version: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    example: {
      ort_version: '1.30.0',
      max_opset: 26,
      execution_providers: ['cpu'],
      arch: 'arm64',
      memory_mb: 4096,
      labels: ['camera:ip67'],
    },
    description:
      'What the device last reported it can run (docs/protocol.md); null: unknown (an older agent, ' +
      'or never connected), and a deployment then treats it as compatible.',
  })
  capabilities: Record<string, unknown> | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description: "The device's own desired state, overriding its group's.",
  })
  desired: Record<string, unknown> | null;
  @ApiProperty() desired_seq: number;
  @ApiProperty({ format: 'date-time' }) credential_rotated_at: string;
  @ApiProperty({ format: 'date-time' }) created_at: string;
  @ApiProperty({ format: 'date-time' }) updated_at: string;

  static from(device: DeviceWithGroup): DeviceDto {
    return {
      id: device.id,
      name: device.name,
      group: device.group?.name ?? null,
      environment: device.group?.environment ?? null,
      labels: device.labels,
      online: device.online,
      last_seen_at: device.lastSeenAt?.toISOString() ?? null,
      // The capabilities are stored in their own column only (DeviceStateWriter).
      reported:
        device.reported && device.capabilities
          ? { ...device.reported, capabilities: device.capabilities }
          : device.reported,
      models: namedModelsOf(device.reported),
      agent_version: device.agentVersion,
      capabilities: device.capabilities ?? null,
      desired: device.desired,
      desired_seq: device.desiredSeq,
      credential_rotated_at: device.credentialRotatedAt.toISOString(),
      created_at: device.createdAt.toISOString(),
      updated_at: device.updatedAt.toISOString(),
    };
  }
}

export class DeviceListDto {
  @ApiProperty({ type: [DeviceDto] }) items: DeviceDto[];
  @ApiProperty() total: number;
  @ApiProperty() limit: number;
  @ApiProperty() offset: number;
}

/**
 * What GET /api/v1/devices/me tells the calling device. No MQTT topics or broker address: topics
 * follow from device_id and group by the protocol (docs/protocol.md, section 2), and the agent
 * already knows the broker it connects to; a second source for either could only disagree.
 */
export class DeviceSelfDto {
  @ApiProperty({ example: 'cam-0042' }) device_id: string;
  @ApiProperty({
    example: 'yard-cams',
    nullable: true,
    type: String,
    description:
      'Subscribe to sentinel/v1/groups/{group}/desired. null when the device is in no group (its group was deleted): the broker refuses it until it is moved.',
  })
  group: string | null;
  @ApiProperty({
    example: 'production',
    nullable: true,
    type: String,
    description: "The group's environment; null without a group.",
  })
  environment: string | null;

  static from(device: DeviceWithGroup): DeviceSelfDto {
    return {
      device_id: device.id,
      group: device.group?.name ?? null,
      environment: device.group?.environment ?? null,
    };
  }
}

export class MqttCredentialsDto {
  @ApiProperty({ example: 'cam-0042', description: 'MQTT user name: the device id.' })
  username: string;
  @ApiProperty({ description: 'MQTT password. Shown only in this response: store it now.' })
  password: string;
  @ApiProperty({ example: 'cam-0042', description: 'MQTT client id: the device id.' })
  client_id: string;
}

export class DeviceWithCredentialsDto extends DeviceDto {
  @ApiProperty({ type: MqttCredentialsDto }) credentials: MqttCredentialsDto;

  static issued({ device, secret }: IssuedCredentials): DeviceWithCredentialsDto {
    return {
      ...DeviceDto.from(device),
      credentials: { username: device.id, password: secret, client_id: device.id },
    };
  }
}

export class MosquittoAclQueryDto {
  @ApiPropertyOptional({
    default: 'sentinel-hub',
    description: "The hub's MQTT user on the external broker (MQTT_USERNAME).",
  })
  @IsOptional()
  @IsString()
  hub_user?: string;
}
