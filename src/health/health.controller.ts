import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { ARTIFACT_STORE } from '../artifacts/artifacts.module.js';
import { Public } from '../auth/auth.decorators.js';

const PROBE_TIMEOUT_MS = 3000;

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    @Inject(ARTIFACT_STORE) private readonly store: ArtifactStore,
  ) {}

  @Get()
  @Public()
  @HealthCheck()
  @ApiOperation({
    summary: 'Liveness and readiness: database and artifact storage (503 when one is down)',
  })
  check() {
    return this.health.check([
      () =>
        this.indicators
          .check('database')
          .attempt(async () => {
            await this.dataSource.query('SELECT 1');
          })
          .withTimeout(PROBE_TIMEOUT_MS),
      () =>
        this.indicators
          .check('storage')
          .attempt(async () => {
            await this.store.check();
            return { engine: this.store.kind };
          })
          .withTimeout(PROBE_TIMEOUT_MS),
    ]);
  }
}
