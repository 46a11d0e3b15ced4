import {
  Catch,
  HttpException,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { DomainError } from './domain-error.js';
import { isStorageFull } from './storage-errors.js';

const HTTP_CODES: Record<number, string> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/** How long a refused upload is read and discarded before its 401/403 is sent regardless. */
const AUTH_REFUSAL_WAIT_MS = 2_000;

/** One place maps errors to responses: `{statusCode, error: CODE, message}`. */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const request = host.switchToHttp().getRequest<Request>();
    // Refused before its body was read (bad token on an upload): read and discard the rest, so the
    // client, still sending, gets our answer rather than a reset connection.
    if (!request.complete && request.readableFlowing !== true) request.resume();
    const healthReport = this.healthReport(exception);
    if (healthReport) {
      response.status(503).json(healthReport);
      return;
    }
    const body = this.toBody(exception);
    if (!request.complete && (body.statusCode === 401 || body.statusCode === 403)) {
      // Refused by the guard before the handler read anything: a client still sending its upload
      // could see the connection reset before it reads the answer (Node closes a connection whose
      // request was not read to its end). Answer once the rest has been read, or after 2 s at most.
      let answered = false;
      const answer = () => {
        if (answered) return;
        answered = true;
        if (!response.destroyed) this.send(exception, body, response);
      };
      request.once('end', answer);
      request.once('close', answer);
      setTimeout(answer, AUTH_REFUSAL_WAIT_MS).unref();
      return;
    }
    this.send(exception, body, response);
  }

  private send(
    exception: unknown,
    body: { statusCode: number; error: string; message: string },
    response: Response,
  ): void {
    if (body.statusCode >= 500)
      // 507 included: whoever runs the hub must learn that its disk is full.
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    if (response.headersSent) {
      // A streamed response failed midway: all we can do is cut it so the client sees it is incomplete.
      response.destroy();
      return;
    }
    response.status(body.statusCode).json(body);
  }

  /** Terminus reports a failed health check as a 503 whose payload is the per-indicator report: keep it. */
  private healthReport(exception: unknown): object | null {
    if (!(exception instanceof HttpException) || exception.getStatus() !== 503) return null;
    const payload = exception.getResponse();
    return typeof payload === 'object' && payload !== null && 'details' in payload ? payload : null;
  }

  private toBody(exception: unknown): { statusCode: number; error: string; message: string } {
    if (exception instanceof DomainError) {
      return { statusCode: exception.status, error: exception.code, message: exception.message };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const payload = exception.getResponse();
      const raw =
        typeof payload === 'object' && payload !== null
          ? (payload as { message?: unknown }).message
          : payload;
      const message = Array.isArray(raw) ? raw.join('; ') : String(raw ?? exception.message);
      return {
        statusCode: status,
        error: HTTP_CODES[status] ?? (status >= 500 ? 'INTERNAL' : 'HTTP_ERROR'),
        message,
      };
    }
    if (isStorageFull(exception)) {
      return {
        statusCode: 507,
        error: 'INSUFFICIENT_STORAGE',
        message: "the hub's storage is full; nothing was stored (free space, then retry)",
      };
    }
    return { statusCode: 500, error: 'INTERNAL', message: 'internal error; see the hub log' };
  }
}
