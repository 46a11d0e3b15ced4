import { Controller, Get, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequireRole } from '../auth/auth.decorators.js';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { notFound } from '../common/domain-error.js';
import { DeploymentHealthDto } from './rules.dto.js';
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
      'Written by the rules module every RULES_INTERVAL_S while the deployment is in progress. `verdict` is null before the first evaluation.',
  })
  @ApiOkResponse({ type: DeploymentHealthDto })
  @ApiErrors(400, 404)
  async health(@Param('id', new ParseUUIDPipe()) id: string): Promise<DeploymentHealthDto> {
    const exists = await this.rules.exists(id);
    if (!exists) throw notFound('deployment', id);
    const health = await this.rules.latest(id);
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
}
