import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { DeploymentsModule } from '../deployments/deployments.module.js';
import { FleetModule } from '../fleet/fleet.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { EventsController } from './events.controller.js';
import { LiveEvents } from './live-events.service.js';

/**
 * GET /api/v1/events: the fleet's, deployments' and registry's in-process changes, coalesced and
 * streamed to the console (Server-Sent Events). It only listens: nothing depends on it.
 */
@Module({
  imports: [AuthModule, FleetModule, DeploymentsModule, RegistryModule],
  controllers: [EventsController],
  providers: [LiveEvents],
})
export class EventsModule {}
