import type { INestApplication } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AppConfig } from '../config/app-config.js';
import { InputInterceptor } from './input.interceptor.js';

/** What every HTTP request goes through before its route: the input checks. */
export function hardenHttp(app: INestApplication, _config: AppConfig): void {
  app.useGlobalInterceptors(new InputInterceptor(app.get(Reflector)));
}
