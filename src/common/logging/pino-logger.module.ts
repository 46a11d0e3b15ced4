// The hub's Nest logging on pino: every HTTP request through pino-http, and Nest's own logger
// (app.useLogger(app.get(Logger))) writing to the same pino instance, inside a request through
// that request's child logger (so its lines carry the request id). A small replacement for
// nestjs-pino, whose current major wants Node >= 22.12 while the hub supports Node 20.19, with
// the same `LoggerModule.forRoot({ pinoHttp })` and `Logger` names.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  Global,
  Inject,
  Injectable,
  Module,
  RequestMethod,
  type DynamicModule,
  type LoggerService,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import type { Logger as Pino } from 'pino';
import { pinoHttp, type HttpLogger, type Options } from 'pino-http';
import { nestLogArgs, type PinoLevel } from './nest-log-args.js';

const HTTP_LOGGER = Symbol('HTTP_LOGGER');

export interface LoggerParams {
  pinoHttp?: Options;
}

const requestLogger = new AsyncLocalStorage<Pino>();

/** Nest's LoggerService on pino; inside a request, on that request's child logger. */
@Injectable()
export class Logger implements LoggerService {
  constructor(@Inject(HTTP_LOGGER) private readonly http: HttpLogger) {}

  verbose(message: unknown, ...optional: unknown[]) {
    this.call('trace', message, optional);
  }
  debug(message: unknown, ...optional: unknown[]) {
    this.call('debug', message, optional);
  }
  log(message: unknown, ...optional: unknown[]) {
    this.call('info', message, optional);
  }
  warn(message: unknown, ...optional: unknown[]) {
    this.call('warn', message, optional);
  }
  error(message: unknown, ...optional: unknown[]) {
    this.call('error', message, optional);
  }
  fatal(message: unknown, ...optional: unknown[]) {
    this.call('fatal', message, optional);
  }

  private call(level: PinoLevel, message: unknown, optional: unknown[]) {
    const logger = requestLogger.getStore() ?? this.http.logger;
    const { fields, args } = nestLogArgs(level, message, optional);
    (logger[level] as (obj: object, ...rest: unknown[]) => void)(fields, ...args);
  }
}

@Global()
@Module({})
export class LoggerModule implements NestModule {
  constructor(@Inject(HTTP_LOGGER) private readonly http: HttpLogger) {}

  static forRoot(params: LoggerParams = {}): DynamicModule {
    return {
      module: LoggerModule,
      providers: [{ provide: HTTP_LOGGER, useValue: pinoHttp(params.pinoHttp ?? {}) }, Logger],
      exports: [Logger],
    };
  }

  configure(consumer: MiddlewareConsumer) {
    const http = this.http;
    consumer
      .apply((req: IncomingMessage, res: ServerResponse, next: () => void) => {
        http(req, res);
        requestLogger.run((req as IncomingMessage & { log: Pino }).log, next);
      })
      // Every path; `{/*splat}` is the express 5 (path-to-regexp 8) spelling of a wildcard.
      .forRoutes({ path: '{/*splat}', method: RequestMethod.ALL });
  }
}
