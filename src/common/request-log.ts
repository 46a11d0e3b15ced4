import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Options } from 'pino-http';
import { actorOf, type RequestPrincipal } from '../auth/auth.decorators.js';

export type RequestLogLevel = 'debug' | 'info' | 'error';

/**
 * The level of the line logged when a request ends. Successes are routine (a `--watch` polls every
 * few seconds): debug. Refusals (4xx) say something about a client: info. Failures (5xx, or a
 * response cut off by an error) need whoever runs the hub: error.
 */
export function requestLogLevel(statusCode: number, failed: boolean): RequestLogLevel {
  if (failed || statusCode >= 500) return 'error';
  if (statusCode >= 400) return 'info';
  return 'debug';
}

/** The message of that line: `GET /api/v1/models 200 in 12 ms`, or `... 500: <error>`. */
export function requestLine(
  method: string | undefined,
  url: string | undefined,
  statusCode: number,
  outcome: { ms: number } | { error: string },
): string {
  const end = 'ms' in outcome ? ` in ${outcome.ms} ms` : `: ${outcome.error}`;
  return `${method ?? '?'} ${url ?? '?'} ${statusCode}${end}`;
}

/** Paths polled by probes and scrapers every few seconds: never logged per request. */
export function isProbe(url: string | undefined): boolean {
  return url === '/health' || url === '/metrics';
}

interface SerializedRequest {
  id?: unknown;
  method?: string;
  url?: string;
}

/** pino-http's options: one line per request, without headers, at requestLogLevel(). */
export function requestLogOptions(level: string): Options {
  return {
    level,
    // No request or response headers: the method, URL and status say what happened, and headers
    // were most of the volume (and carry credentials).
    serializers: {
      req: (req: SerializedRequest) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
    // Lines logged while handling a request carry its id, not the whole request again.
    quietReqLogger: true,
    autoLogging: { ignore: (req) => isProbe(req.url) },
    customLogLevel: (_req, res, error) => requestLogLevel(res.statusCode, error !== undefined),
    customSuccessMessage: (req, res, ms) =>
      requestLine(req.method, req.url, res.statusCode, { ms }),
    customErrorMessage: (req, res, error) =>
      requestLine(req.method, req.url, res.statusCode, { error: error.message }),
    // Who made the call (token:<name> or device:<id>), on the line logged when it ends.
    customProps: (req: IncomingMessage, _res: ServerResponse) => {
      const principal = (req as { principal?: RequestPrincipal }).principal;
      return principal ? { actor: actorOf(principal) } : {};
    },
  };
}
