import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { DomainError, validationFailed } from './domain-error.js';
import { jsonProblem } from './domain/json-input.js';
import { liftRequestDeadline, STREAMING_UPLOAD } from './request-deadline.js';

const JSON_TYPE = /^application\/json\s*(?:;|$)/i;

/** True when the request carries a body (a length above 0, or chunked). */
export function hasBody(headers: Request['headers']): boolean {
  const length = headers['content-length'];
  if (length !== undefined) return length.trim() !== '0';
  return headers['transfer-encoding'] !== undefined;
}

/**
 * Checks every request's input before the route's pipes see it (class-transformer recursed until
 * the stack overflowed on deep bodies; PostgreSQL refused NUL and lone surrogates with a 500):
 * query and path parameters and the JSON body must be well-formed text and nested at most 32
 * levels, and a body on a JSON route must be JSON (415 otherwise; form posts were read as input).
 * Runs after the guard, so unauthenticated callers learn nothing from it.
 */
@Injectable()
export class InputInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<Request>();
    const streaming = this.reflector.getAllAndOverride<boolean>(STREAMING_UPLOAD, [
      context.getHandler(),
      context.getClass(),
    ]);
    const problem =
      jsonProblem(request.query, 'query') ?? jsonProblem(request.params ?? {}, 'path');
    if (problem) throw validationFailed(problem);
    if (streaming) {
      liftRequestDeadline(request);
      return next.handle();
    }
    if (hasBody(request.headers)) {
      if (!JSON_TYPE.test(request.headers['content-type'] ?? '')) {
        throw new DomainError(
          'UNSUPPORTED_MEDIA_TYPE',
          `the body must be JSON (Content-Type: application/json), got ${JSON.stringify(request.headers['content-type'] ?? 'none')}`,
        );
      }
      const bodyProblem = jsonProblem(request.body, 'body');
      if (bodyProblem) throw validationFailed(bodyProblem);
    }
    return next.handle();
  }
}
