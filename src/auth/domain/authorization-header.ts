import { bearerToken } from './token-secret.js';

/** What an `Authorization` header presents. */
export type PresentedCredential =
  | { scheme: 'bearer'; token: string }
  /** A device credential: its id as user name, its secret as password (RFC 7617). */
  | { scheme: 'basic'; deviceId: string; secret: string }
  | { scheme: 'malformed-basic' };

const BASIC_RE = /^Basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i;

/** Reads a Bearer or Basic header; null when there is none, or it uses another scheme. */
export function readAuthorization(header: string | undefined): PresentedCredential | null {
  if (!header) return null;
  const token = bearerToken(header);
  if (token) return { scheme: 'bearer', token };
  if (!/^Basic(\s|$)/i.test(header)) return null;
  const match = BASIC_RE.exec(header);
  if (!match) return { scheme: 'malformed-basic' };
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  // The user id cannot hold a colon, the password may: split at the first one (RFC 7617, 2).
  const colon = decoded.indexOf(':');
  if (colon < 0) return { scheme: 'malformed-basic' };
  return { scheme: 'basic', deviceId: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}
