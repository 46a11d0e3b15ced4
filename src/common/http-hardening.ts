import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AppConfig } from '../config/app-config.js';
import { InputInterceptor } from './input.interceptor.js';
import { applyServerTimeouts, requestDeadline, type HttpTimeouts } from './request-deadline.js';
import { securityHeadersMiddleware } from './security-headers.js';

/**
 * What every HTTP request goes through before its route: security headers on the response, the
 * request deadline and idle timeout (uploads exempt from the deadline), and the input checks.
 */
export function hardenHttp(app: INestApplication, config: AppConfig): void {
  const timeouts: HttpTimeouts = {
    requestMs: config.HTTP_REQUEST_TIMEOUT_S * 1000,
    idleMs: config.HTTP_IDLE_TIMEOUT_S * 1000,
  };
  applyServerTimeouts(app.getHttpServer() as Server, timeouts);
  app.use(securityHeadersMiddleware());
  app.use(requestDeadline(timeouts));
  app.useGlobalInterceptors(new InputInterceptor(app.get(Reflector)));
}
