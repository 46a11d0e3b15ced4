import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import {
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsIn, IsOptional, ValidateIf } from 'class-validator';
import { CurrentPrincipal, RequireRole, type Principal } from '../../auth/auth.decorators.js';
import { ApiErrors } from '../../common/api-errors.decorator.js';
import { IsFleetId } from '../../fleet/dto/fleet-validators.js';
import { FleetIdPipe } from '../../fleet/fleet-id.pipe.js';
import { STAGES, type Stage } from '../../registry/domain/model-rules.js';
import type { EnvironmentGate } from './environment-gate.entity.js';
import { GatesService } from './gates.service.js';

class SetGatesDto {
  @ApiPropertyOptional({
    enum: STAGES,
    nullable: true,
    example: 'production',
    description: 'The stage a version must be in to be deployed here; null or absent: any.',
  })
  @IsOptional()
  @ValidateIf((_o, value) => value !== null)
  @IsIn(STAGES)
  required_stage?: Stage | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'staging',
    description:
      'An environment where the same version must have had a succeeded deployment first; null or absent: none.',
  })
  @IsOptional()
  @ValidateIf((_o, value) => value !== null)
  @IsFleetId()
  require_success_in?: string | null;
}

class GatesDto {
  @ApiProperty({ example: 'production' }) environment: string;
  @ApiProperty({ enum: STAGES, nullable: true }) required_stage: Stage | null;
  @ApiProperty({ nullable: true, type: String, example: 'staging' })
  require_success_in: string | null;
  @ApiProperty() updated_by: string;
  @ApiProperty() updated_at: Date;

  static from(gate: EnvironmentGate): GatesDto {
    return {
      environment: gate.environment,
      required_stage: gate.requiredStage,
      require_success_in: gate.requireSuccessIn,
      updated_by: gate.updatedBy,
      updated_at: gate.updatedAt,
    };
  }
}

class GatesListDto {
  @ApiProperty({ type: [GatesDto] }) items: GatesDto[];
}

const environmentName = new FleetIdPipe('environment');

@ApiTags('deployments')
@Controller('api/v1/gates')
export class GatesController {
  constructor(private readonly gates: GatesService) {}

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'List the environments that have stage gates' })
  @ApiOkResponse({ type: GatesListDto })
  @ApiErrors()
  async list(): Promise<GatesListDto> {
    return { items: (await this.gates.list()).map((gate) => GatesDto.from(gate)) };
  }

  @Get(':environment')
  @RequireRole('viewer')
  @ApiOperation({ summary: "Get an environment's stage gates" })
  @ApiParam({ name: 'environment', example: 'production' })
  @ApiOkResponse({ type: GatesDto })
  @ApiErrors(400, 404)
  async get(@Param('environment', environmentName) environment: string): Promise<GatesDto> {
    return GatesDto.from(await this.gates.get(environment));
  }

  @Put(':environment')
  @RequireRole('admin')
  @ApiOperation({
    summary: "Set an environment's stage gates",
    description:
      'A deployment to the environment is then refused (409) unless its version is in `required_stage` and, if set, had a succeeded deployment in `require_success_in`. An admin may override with `override_gates: true` on the deployment; the override is recorded in its created event.',
  })
  @ApiParam({ name: 'environment', example: 'production' })
  @ApiOkResponse({ type: GatesDto })
  @ApiErrors(400)
  async set(
    @Param('environment', environmentName) environment: string,
    @Body() body: SetGatesDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<GatesDto> {
    const gate = await this.gates.set(
      environment,
      {
        requiredStage: body.required_stage ?? null,
        requireSuccessIn: body.require_success_in ?? null,
      },
      principal,
    );
    return GatesDto.from(gate);
  }

  @Delete(':environment')
  @HttpCode(204)
  @RequireRole('admin')
  @ApiOperation({ summary: "Remove an environment's stage gates" })
  @ApiParam({ name: 'environment', example: 'production' })
  @ApiNoContentResponse()
  @ApiErrors(400, 404)
  async remove(
    @Param('environment', environmentName) environment: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.gates.remove(environment, principal);
  }
}
