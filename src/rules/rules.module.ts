import { Module } from '@nestjs/common';
import { DeploymentsModule } from '../deployments/deployments.module.js';
import { TelemetryModule } from '../telemetry/telemetry.module.js';
import { RulesController } from './rules.controller.js';
import { HealthRepository } from './health.repository.js';
import { RulesService } from './rules.service.js';
import { ShadowJudge } from './shadow-judge.js';

/** Deployment health from telemetry, and the automatic rollback (design section 8). */
@Module({
  imports: [DeploymentsModule, TelemetryModule],
  controllers: [RulesController],
  providers: [RulesService, ShadowJudge, HealthRepository],
  exports: [RulesService],
})
export class RulesModule {}
