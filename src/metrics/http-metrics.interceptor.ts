import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import { MetricsService } from './metrics.service.js';

/** Counts requests by route pattern (not raw URL, which would explode the label set). */
@Injectable()
export class HttpMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: MetricsService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
      this.metrics.httpRequests.inc({
        method: request.method,
        route,
        status: String(response.statusCode),
      });
      this.metrics.httpDuration.observe(
        { method: request.method, route },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    });
    return next.handle();
  }
}
