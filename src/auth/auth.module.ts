import { Module } from '@nestjs/common';
import { TokensController } from './tokens.controller.js';
import { TokenEvents } from './token-events.js';
import { TokensService } from './tokens.service.js';
import { WhoamiController } from './whoami.controller.js';

/**
 * API tokens and roles. The guard that checks them on every route (auth.guard.ts) is registered as
 * APP_GUARD by AppModule, because it also needs the device check the fleet module provides under
 * DEVICE_AUTHENTICATOR, and auth must not import fleet (fleet depends on auth).
 */
@Module({
  controllers: [TokensController, WhoamiController],
  providers: [TokensService, TokenEvents],
  exports: [TokensService, TokenEvents],
})
export class AuthModule {}
