import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { CurrentPrincipal, RequireRole, actorOf, type Principal } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { EXAMPLE_UUID } from '../common/openapi-examples.js';
import { DesiredStateService } from './desired-state.service.js';

export class PinModelDto {
  @ApiProperty({ format: 'uuid', description: 'The model version to run', example: EXAMPLE_UUID })
  @IsUUID('all', { message: 'model_id must be a UUID' })
  model_id: string;
}

const DESIRED_STATE_SCHEMA = {
  description:
    'The desired state as published (docs/protocol/desired-state.json), or null when none is set.',
  schema: { type: 'object', nullable: true, additionalProperties: true },
};

@ApiTags('desired state')
@Controller('api/v1')
export class DesiredStateController {
  constructor(private readonly desired: DesiredStateService) {}

  @Get('groups/:name/desired')
  @RequireRole('viewer')
  @ApiOperation({
    summary: "A group's current desired state (what its retained MQTT message says)",
  })
  @ApiOkResponse(DESIRED_STATE_SCHEMA)
  @ApiErrors(404)
  groupDesired(@Param('name') name: string) {
    return this.desired.current({ kind: 'group', name });
  }

  @Put('groups/:name/desired')
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Pin a model version on a whole group, without a rollout',
    description:
      'Publishes a retained desired state with strategy "pinned"; the model it replaces becomes "previous".',
  })
  @ApiOkResponse(DESIRED_STATE_SCHEMA)
  @ApiErrors(400, 404)
  pinGroup(
    @Param('name') name: string,
    @Body() body: PinModelDto,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.desired.pin({ kind: 'group', name }, body.model_id, principal);
  }

  @Get('devices/:id/desired')
  @RequireRole('viewer')
  @ApiOperation({ summary: "A device's own desired-state override, if any" })
  @ApiOkResponse(DESIRED_STATE_SCHEMA)
  @ApiErrors(404)
  deviceDesired(@Param('id') id: string) {
    return this.desired.current({ kind: 'device', id });
  }

  @Put('devices/:id/desired')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Pin a model version on one device (overrides its group)' })
  @ApiOkResponse(DESIRED_STATE_SCHEMA)
  @ApiErrors(400, 404)
  pinDevice(
    @Param('id') id: string,
    @Body() body: PinModelDto,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.desired.pin({ kind: 'device', id }, body.model_id, principal);
  }

  @Delete('devices/:id/desired')
  @HttpCode(204)
  @RequireRole('operator')
  @ApiOperation({ summary: "Remove a device's override: it follows its group again" })
  @ApiNoContentResponse()
  @ApiErrors(404)
  async clearDevice(
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.desired.clearDevice(id, actorOf(principal));
  }
}
