import { Module } from '@nestjs/common';
import { SigningModule } from '../signing/signing.module.js';
import { RegistryController } from './registry.controller.js';
import { RegistryEvents } from './registry-events.js';
import { RegistryService } from './registry.service.js';

@Module({
  imports: [SigningModule],
  controllers: [RegistryController],
  providers: [RegistryService, RegistryEvents],
  exports: [RegistryService, RegistryEvents],
})
export class RegistryModule {}
