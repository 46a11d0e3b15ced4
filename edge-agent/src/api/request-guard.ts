import { isIP } from 'node:net';

/**
 * What a web page in the device's browser must not be able to do to the local API:
 *
 * - DNS rebinding: a page at `http://attacker.example:8071` whose name later resolves to
 *   127.0.0.1 talks to the API as "same origin"; its requests carry `Host: attacker.example:8071`.
 *   The API answers only Host names that are its own: `localhost`, an IP address (a page whose
 *   origin is an IP address is served from that address), or a name configured with
 *   SENTINEL_API_HOSTS.
 * - Cross-site POSTs: a page may send `text/plain`, form or multipart bodies to any address
 *   without a CORS preflight; the API takes POST bodies only as `application/json`, which a
 *   browser sends cross-origin only after a preflight the API never grants.
 */

/** Whether a Host header names this API (see above); a request without one (HTTP/1.0) passes. */
export function hostAllowed(host: string | undefined, names: readonly string[] = []): boolean {
  if (host === undefined) return true;
  const value = host.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) return isIP(bracketed[1]!) === 6;
  const match = /^([^:]+)(?::\d+)?$/.exec(value);
  if (!match) return false;
  const name = match[1]!.replace(/\.$/, '');
  return name === 'localhost' || isIP(name) !== 0 || names.includes(name);
}

/** Whether a Content-Type is `application/json` (any parameters, any case). */
export function isJsonType(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]!.trim().toLowerCase() === 'application/json';
}
