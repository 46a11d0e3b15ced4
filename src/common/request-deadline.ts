import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { SetMetadata } from '@nestjs/common';

/** Metadata of a route that reads its own, possibly huge, body: see StreamingUpload(). */
export const STREAMING_UPLOAD = 'sentinel:streaming-upload';

/**
 * Marks a route that streams its body itself (a model push): the JSON checks do not apply, and once
 * the caller is authenticated the request deadline is lifted, so an upload over a slow link is not
 * cut while its bytes keep arriving; the idle timeout still ends one that stops sending.
 */
export const StreamingUpload = () => SetMetadata(STREAMING_UPLOAD, true);

export interface HttpTimeouts {
  /** The whole request (headers and body) must arrive within this; 0 = no limit. */
  requestMs: number;
  /** A connection with no bytes either way for this long is closed; 0 = no limit. */
  idleMs: number;
}

const LIFT = Symbol('sentinel.liftRequestDeadline');
type WithDeadline = IncomingMessage & { [LIFT]?: () => void };

/**
 * Node's own requestTimeout (300 s by default) cuts any request still receiving its body, uploads
 * included, and cannot be lifted per route. It is turned off here and replaced by requestDeadline()
 * (the same limit, liftable per request) plus a socket idle timeout; headersTimeout (60 s) still
 * bounds a client that never finishes its headers.
 */
export function applyServerTimeouts(server: Server, timeouts: HttpTimeouts): void {
  server.requestTimeout = 0;
  // Without a 'timeout' listener Node destroys a socket idle for this long.
  server.setTimeout(timeouts.idleMs);
}

/** Express middleware: a request whose body has not fully arrived within `requestMs` gets 408. */
export function requestDeadline(timeouts: HttpTimeouts) {
  return (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    if (timeouts.requestMs > 0 && !request.complete) {
      const timer = setTimeout(
        () => expire(request, response, timeouts.requestMs),
        timeouts.requestMs,
      );
      const clear = () => clearTimeout(timer);
      (request as WithDeadline)[LIFT] = clear;
      request.once('end', clear);
      response.once('close', clear);
    }
    next();
  };
}

/** Lifts the deadline of this request (an authenticated upload); harmless when there is none. */
export function liftRequestDeadline(request: IncomingMessage): void {
  (request as WithDeadline)[LIFT]?.();
}

function expire(request: IncomingMessage, response: ServerResponse, ms: number): void {
  if (request.complete) return;
  const socket = request.socket;
  if (response.headersSent) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({
    statusCode: 408,
    error: 'REQUEST_TIMEOUT',
    message: `the request did not arrive within HTTP_REQUEST_TIMEOUT_S (${ms / 1000} s)`,
  });
  response.writeHead(408, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  response.end(body, () => socket.destroy());
}
