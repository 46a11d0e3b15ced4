import { Module } from '@nestjs/common';
import { BrokerModule } from '../broker/broker.module.js';
import { FleetModule } from '../fleet/fleet.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { TelemetryModule } from '../telemetry/telemetry.module.js';
import { DeploymentsController } from './deployments.controller.js';
import { DeploymentsService } from './deployments.service.js';

/** Rollouts: blue/green and canary deployments, driven from the database (design section 6). */
@Module({
  imports: [RegistryModule, FleetModule, BrokerModule, TelemetryModule],
  controllers: [DeploymentsController],
  providers: [DeploymentsService],
  exports: [DeploymentsService],
})
export class DeploymentsModule {}
