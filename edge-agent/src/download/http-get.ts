import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ClientTls } from '../tls.js';

export interface GetOptions {
  headers: Record<string, string>;
  signal: AbortSignal;
  /** Socket inactivity limit: waiting for the headers and any pause between body chunks. */
  stallTimeoutMs: number;
  /** For https: CAs to trust and a client certificate (see ClientTls). */
  tls?: ClientTls;
}

/** A transfer that stopped making progress (no headers, or no bytes, within the stall timeout). */
export class StallError extends Error {
  constructor(ms: number) {
    super(`no data for ${ms} ms`);
    this.name = 'StallError';
  }
}

/**
 * GET with node:http(s): the response body is a Node stream read in place, with no
 * WHATWG-stream layer in between, and the socket timeout covers both the headers and the body.
 * Resolves with the response (any status); rejects on connection errors.
 */
export function httpGet(url: URL, options: GetOptions): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      ...(url.protocol === 'https:' ? options.tls : undefined),
      method: 'GET',
      headers: options.headers,
      signal: options.signal,
    });
    req.setTimeout(options.stallTimeoutMs, () =>
      req.destroy(new StallError(options.stallTimeoutMs)),
    );
    req.once('response', resolve);
    req.once('error', reject);
    req.end();
  });
}

/** Content-Range: "bytes FIRST-LAST/COMPLETE" or "bytes *\/COMPLETE"; COMPLETE may be "*" (unknown). */
export function parseContentRange(
  value: string | undefined,
): { start?: number; end?: number; complete?: number } | undefined {
  const match = /^\s*bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)\s*$/i.exec(value ?? '');
  if (!match) return undefined;
  return {
    start: match[1] === undefined ? undefined : Number(match[1]),
    end: match[2] === undefined ? undefined : Number(match[2]),
    complete: match[3] === '*' ? undefined : Number(match[3]),
  };
}

/** A strong ETag may validate a range request (If-Range, RFC 9110 section 13.1.5); a weak one may not. */
export function strongEtag(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed && /^"[^"]*"$/.test(trimmed) ? trimmed : undefined;
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'HPE_INVALID_CONSTANT', // a garbled response
]);

/** Whether a request or response-body error is the network's (worth retrying) rather than a bug. */
export function isTransientNetworkError(error: unknown): boolean {
  if (error instanceof StallError) return true;
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  // node:http reports a body cut short as Error('aborted') with code ECONNRESET.
  return (
    (code !== undefined && (TRANSIENT_CODES.has(code) || code.startsWith('HPE_'))) ||
    message === 'aborted' ||
    message === 'socket hang up'
  );
}
