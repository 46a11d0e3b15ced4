import { Module } from '@nestjs/common';
import { SigningModule } from '../signing/signing.module.js';
import { RegistryController } from './registry.controller.js';
import { RegistryEvents } from './registry-events.js';
import { RegistryService } from './registry.service.js';
import { AliasesController } from './aliases/aliases.controller.js';
import { AliasesService } from './aliases/aliases.service.js';

@Module({
  imports: [SigningModule],
  controllers: [RegistryController, AliasesController],
  providers: [RegistryService, AliasesService, RegistryEvents],
  exports: [RegistryService, RegistryEvents],
})
export class RegistryModule {}
