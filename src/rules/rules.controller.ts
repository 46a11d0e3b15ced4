import { Controller, Get, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { notFound } from '../common/domain-error.js';
import { PageQueryDto } from '../common/page-query.dto.js';
import { DeploymentHealthDto, HealthHistoryDto } from './rules.dto.js';
import { RulesService } from './rules.service.js';

@ApiTags('deployments')
@Controller('api/v1/deployments')
export class RulesController {
  constructor(private readonly rules: RulesService) {}

  @Get(':id/health')
  @RequireRole('viewer')
  @ApiOperation({
    summary:
      "A deployment's latest health evaluation: verdict, per-metric figures of the new version against the baseline",
    description:
      'Written by the rules module every RULES_INTERVAL_S while the deployment is in progress (also while it observes). ' +
      'Once it has finished: the last evaluation before it did (the one that promoted, succeeded or rolled it back). ' +
      '`verdict` is null before the first evaluation.',
  })
  @ApiOkResponse({ type: DeploymentHealthDto })
  @ApiErrors(400, 404)
  async health(@Param('id', new ParseUUIDPipe()) id: string): Promise<DeploymentHealthDto> {
    const health = await this.rules.latest(id);
    if (health === undefined) throw notFound('deployment', id);
    return health
      ? { deployment_id: id, ...health }
      : {
          deployment_id: id,
          verdict: null,
          checks: [],
          reasons: [],
          evaluated_at: null,
          action: 'none',
        };
  }

  @Get(':id/health/history')
  @RequireRole('viewer')
  @ApiOperation({
    summary: 'Every health evaluation of a deployment, newest first, each with its whole report',
  })
  @ApiOkResponse({ type: HealthHistoryDto })
  @ApiErrors(400, 404)
  async history(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Query() query: PageQueryDto,
  ): Promise<HealthHistoryDto> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    const page = await this.rules.history(id, limit, offset);
    if (!page) throw notFound('deployment', id);
    return {
      items: page.items.map((h) => ({ deployment_id: id, ...h })),
      total: page.total,
      limit,
      offset,
    };
  }
}
