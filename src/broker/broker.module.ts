import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { FleetModule } from '../fleet/fleet.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { BrokerService } from './broker.service.js';
import { DesiredStateController } from './desired-state.controller.js';
import { DesiredStateService } from './desired-state.service.js';
import { DesiredStateUpkeep } from './desired-state-upkeep.js';
import { NamedDesiredStore } from './named-desired-store.js';

@Module({
  imports: [AuthModule, FleetModule, RegistryModule],
  controllers: [DesiredStateController],
  providers: [BrokerService, DesiredStateService, DesiredStateUpkeep, NamedDesiredStore],
  exports: [BrokerService, DesiredStateService],
})
export class BrokerModule {}
