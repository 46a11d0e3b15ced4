import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query, Res } from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsFleetId } from '../fleet/dto/fleet-validators.js';
import { CurrentPrincipal, RequireRole, actorOf, type Principal } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { MODEL_REF_HELP } from '../registry/domain/model-ref.js';
import type { Response } from 'express';
import { IsModelRef } from '../registry/dto/model-ref.validator.js';
import { DesiredStateService } from './desired-state.service.js';

export class PinModelDto {
  @ApiProperty({
    example: 'detector@2.0.0',
    description: `The model version to run: ${MODEL_REF_HELP}.`,
  })
  @IsModelRef()
  model_id: string;
}

export class ServeAsQueryDto {
  @ApiPropertyOptional({
    example: 'classifier',
    default: 'default',
    description:
      'The named model whose desired state this is (docs/protocol.md 6.6; topics `.../models/{name}/desired`). Absent: `default`, the unnamed topics.',
  })
  @IsOptional()
  @IsFleetId()
  serve_as?: string;
}

/** Nest answers a handler's null with an empty body; a desired state that is not set is JSON `null`. */
function sendJson(response: Response, value: unknown): void {
  response.status(200).json(value);
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
  async groupDesired(
    @Param('name') name: string,
    @Query() query: ServeAsQueryDto,
    @Res() response: Response,
  ): Promise<void> {
    sendJson(
      response,
      await this.desired.current({ kind: 'group', name, serveAs: query.serve_as }),
    );
  }

  @Put('groups/:name/desired')
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Pin a model version on a whole group, without a rollout',
    description:
      'Publishes a retained desired state with strategy "pinned"; the model it replaces becomes "previous". ' +
      'Only ONNX models can be pinned (400 NOT_DEPLOYABLE otherwise).',
  })
  @ApiOkResponse(DESIRED_STATE_SCHEMA)
  @ApiErrors(400, 404)
  pinGroup(
    @Param('name') name: string,
    @Query() query: ServeAsQueryDto,
    @Body() body: PinModelDto,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.desired.pin(
      { kind: 'group', name, serveAs: query.serve_as },
      body.model_id,
      principal,
    );
  }

  @Get('devices/:id/desired')
  @RequireRole('viewer')
  @ApiOperation({ summary: "A device's own desired-state override, if any" })
  @ApiOkResponse(DESIRED_STATE_SCHEMA)
  @ApiErrors(404)
  async deviceDesired(
    @Param('id') id: string,
    @Query() query: ServeAsQueryDto,
    @Res() response: Response,
  ): Promise<void> {
    sendJson(response, await this.desired.current({ kind: 'device', id, serveAs: query.serve_as }));
  }

  @Put('devices/:id/desired')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Pin a model version on one device (overrides its group)' })
  @ApiOkResponse(DESIRED_STATE_SCHEMA)
  @ApiErrors(400, 404)
  pinDevice(
    @Param('id') id: string,
    @Query() query: ServeAsQueryDto,
    @Body() body: PinModelDto,
    @CurrentPrincipal() principal: Principal,
  ) {
    return this.desired.pin(
      { kind: 'device', id, serveAs: query.serve_as },
      body.model_id,
      principal,
    );
  }

  @Delete('devices/:id/desired')
  @HttpCode(204)
  @RequireRole('operator')
  @ApiOperation({ summary: "Remove a device's override: it follows its group again" })
  @ApiNoContentResponse()
  @ApiErrors(404)
  async clearDevice(
    @Param('id') id: string,
    @Query() query: ServeAsQueryDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.desired.clearDevice(id, actorOf(principal), query.serve_as);
  }
}
