import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireRole, type Principal } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { DeploymentQueries } from './deployment-queries.js';
import { DeploymentActions } from './deployment-actions.js';
import { DeploymentsService } from './deployments.service.js';
import {
  ActionReasonDto,
  CreateDeploymentDto,
  ListDeploymentsQueryDto,
} from './dto/deployment-requests.dto.js';
import { DeploymentDetailDto, DeploymentDto, DeploymentListDto } from './dto/deployment.dto.js';

const uuid = new ParseUUIDPipe({ version: undefined });

@ApiTags('deployments')
@Controller('api/v1/deployments')
export class DeploymentsController {
  constructor(
    private readonly deployments: DeploymentsService,
    private readonly actions: DeploymentActions,
    private readonly queries: DeploymentQueries,
  ) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Deploy a model version to a group (or every group) of an environment',
    description:
      'blue-green: devices stage the model while the previous one serves, then all swap at once (cutover) when the ' +
      'online devices have staged (or staging_timeout_s passed and min_staged_share did). canary: the cohort of each ' +
      'step (canary.steps, default 5, 25, 100 %) runs the model; a step lasts canary.step_interval_s. One active ' +
      'deployment per group: a second one is 409 unless supersede is true. The agents run ONNX models only: a ' +
      'model of another format (PyTorch, TFLite, ...) is refused (400 NOT_DEPLOYABLE); deploy its ONNX export, ' +
      'pushed with parent_id set to it.',
  })
  @ApiCreatedResponse({ type: DeploymentDto })
  @ApiErrors(400, 404, 409)
  async create(
    @Body() body: CreateDeploymentDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DeploymentDto> {
    return DeploymentDto.from(await this.deployments.create(body, principal));
  }

  @Get()
  @RequireRole('viewer')
  @ApiOperation({ summary: 'List deployments, newest first' })
  @ApiOkResponse({ type: DeploymentListDto })
  @ApiErrors(400)
  async list(@Query() query: ListDeploymentsQueryDto): Promise<DeploymentListDto> {
    const page = await this.queries.list(query);
    return { ...page, items: page.items.map((item) => DeploymentDto.from(item)) };
  }

  @Get(':id')
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'Get a deployment with per-device progress, failed devices and its event history',
  })
  @ApiOkResponse({ type: DeploymentDetailDto })
  @ApiErrors(400, 404)
  async get(@Param('id', uuid) id: string): Promise<DeploymentDetailDto> {
    return DeploymentDetailDto.fromDetail(await this.queries.detail(id));
  }

  @Post(':id/rollback')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Roll back: every group of the deployment returns to its previous model',
    description:
      'Devices still hold the previous model in their standby slot, so this is a swap without a download. A ' +
      'deployment is rolled back once: a second call is 409.',
  })
  @ApiOkResponse({ type: DeploymentDto })
  @ApiErrors(400, 404, 409)
  async rollback(
    @Param('id', uuid) id: string,
    @Body() body: ActionReasonDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DeploymentDto> {
    return DeploymentDto.from(await this.actions.act(id, 'rollback', principal, body?.reason));
  }

  @Post(':id/pause')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({ summary: 'Pause: no cutover, step or verdict until resumed' })
  @ApiOkResponse({ type: DeploymentDto })
  @ApiErrors(400, 404, 409)
  async pause(
    @Param('id', uuid) id: string,
    @Body() body: ActionReasonDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DeploymentDto> {
    return DeploymentDto.from(await this.actions.act(id, 'pause', principal, body?.reason));
  }

  @Post(':id/resume')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({ summary: 'Resume a paused deployment (a canary step starts its interval again)' })
  @ApiOkResponse({ type: DeploymentDto })
  @ApiErrors(400, 404, 409)
  async resume(
    @Param('id', uuid) id: string,
    @Body() body: ActionReasonDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DeploymentDto> {
    return DeploymentDto.from(await this.actions.act(id, 'resume', principal, body?.reason));
  }

  @Post(':id/promote')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({
    summary: 'Promote: a canary goes to its next step now; a blue/green deployment cuts over now',
  })
  @ApiOkResponse({ type: DeploymentDto })
  @ApiErrors(400, 404, 409)
  async promote(
    @Param('id', uuid) id: string,
    @Body() body: ActionReasonDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DeploymentDto> {
    return DeploymentDto.from(await this.actions.act(id, 'promote', principal, body?.reason));
  }
}
