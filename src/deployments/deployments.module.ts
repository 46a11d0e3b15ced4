import { Module } from '@nestjs/common';
import { BrokerModule } from '../broker/broker.module.js';
import { FleetModule } from '../fleet/fleet.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { TelemetryModule } from '../telemetry/telemetry.module.js';
import { DeploymentsController } from './deployments.controller.js';
import { DeploymentEvents } from './deployment-events.js';
import { DeploymentJudging } from './deployment-judging.js';
import { DeploymentQueries } from './deployment-queries.js';
import { DeploymentTransitions } from './deployment-transitions.js';
import { DeploymentsRepository } from './deployments.repository.js';
import { DeploymentCompatibility } from './deployment-compatibility.js';
import { DeploymentTargets } from './deployment-targets.js';
import { DeploymentActions } from './deployment-actions.js';
import { DeploymentsService } from './deployments.service.js';
import { RolloutDriver } from './rollout-driver.js';
import { RolloutRate } from './rollout-rate.js';
import { GatesController } from './gates/gates.controller.js';
import { GatesService } from './gates/gates.service.js';

/** Rollouts: blue/green and canary deployments, driven from the database (design section 6). */
@Module({
  imports: [RegistryModule, FleetModule, BrokerModule, TelemetryModule],
  controllers: [DeploymentsController, GatesController],
  providers: [
    DeploymentsRepository,
    DeploymentTargets,
    DeploymentCompatibility,
    DeploymentTransitions,
    DeploymentQueries,
    DeploymentsService,
    DeploymentActions,
    RolloutDriver,
    RolloutRate,
    DeploymentJudging,
    GatesService,
    DeploymentEvents,
  ],
  exports: [DeploymentsService, DeploymentQueries, DeploymentJudging, DeploymentEvents],
})
export class DeploymentsModule {}
