import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { isHubPath } from '../console/console-files.js';

/** Swagger UI (under /docs) loads its own scripts and styles and has inline styles and data: images. */
const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

/** The web console (served at /, src/console/): its own bundled scripts and styles, calls to its hub. */
const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

/** The API answers JSON and bytes: nothing in it is ever a page to render, script or frame. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The headers every response carries, by path (Swagger UI and the console load pages) and transport. */
export function securityHeaders(path: string, secure: boolean): Record<string, string> {
  const docs = path === '/docs' || path.startsWith('/docs/');
  const csp = docs ? DOCS_CSP : isHubPath(path) ? API_CSP : CONSOLE_CSP;
  return {
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Content-Security-Policy': csp,
    'Cross-Origin-Opener-Policy': 'same-origin',
    // Only over TLS (RFC 6797): a browser that reached us over HTTPS keeps to it for a year.
    ...(secure ? { 'Strict-Transport-Security': 'max-age=31536000' } : {}),
  };
}

/** Express middleware setting securityHeaders() on every response, and dropping X-Powered-By. */
export function securityHeadersMiddleware() {
  return (request: IncomingMessage, response: ServerResponse, next: () => void): void => {
    const path = (request.url ?? '/').split('?', 1)[0]!;
    const secure = (request.socket as Partial<TLSSocket>).encrypted === true;
    for (const [name, value] of Object.entries(securityHeaders(path, secure)))
      response.setHeader(name, value);
    response.removeHeader('X-Powered-By');
    next();
  };
}
