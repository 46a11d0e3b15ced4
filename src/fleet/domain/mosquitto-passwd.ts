import { pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/**
 * What `mosquitto_passwd` of Mosquitto 2.0 writes: `$7$<iterations>$<base64 salt>$<base64 key>`,
 * with type 7 = PBKDF2-HMAC-SHA512, 101 iterations (PW_DEFAULT_ITERATIONS), a 12-byte salt (SALT_LEN)
 * and a 64-byte key (the SHA-512 size), base64 with padding. Mosquitto reads the iteration count
 * from each line, so later releases with other defaults still accept these lines.
 */
export const MOSQUITTO_PBKDF2 = {
  iterations: 101,
  saltBytes: 12,
  keyBytes: 64,
  digest: 'sha512',
} as const;

export interface MosquittoHashParts {
  iterations: number;
  salt: Buffer;
  key: Buffer;
}

export async function mosquittoPasswordHash(
  password: string,
  salt: Buffer = randomBytes(MOSQUITTO_PBKDF2.saltBytes),
): Promise<string> {
  const { iterations, keyBytes, digest } = MOSQUITTO_PBKDF2;
  const key = await pbkdf2Async(password, salt, iterations, keyBytes, digest);
  return `$7$${iterations}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export function parseMosquittoHash(encoded: string): MosquittoHashParts | null {
  const match = /^\$7\$(\d{1,9})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/.exec(encoded);
  if (!match) return null;
  const iterations = Number(match[1]);
  if (iterations < 1) return null;
  return {
    iterations,
    salt: Buffer.from(match[2], 'base64'),
    key: Buffer.from(match[3], 'base64'),
  };
}

/** Checks a password against a `$7$` line the way Mosquitto does (used by tests and tooling). */
export function verifyMosquittoHash(password: string, encoded: string): boolean {
  const parts = parseMosquittoHash(encoded);
  if (!parts) return false;
  const key = pbkdf2Sync(
    password,
    parts.salt,
    parts.iterations,
    parts.key.length,
    MOSQUITTO_PBKDF2.digest,
  );
  return timingSafeEqual(key, parts.key);
}

export interface PasswdEntry {
  username: string;
  mosquittoHash: string;
}

/**
 * A Mosquitto `password_file`: one `user:hash` line per entry, sorted so that regenerating the
 * file for an unchanged fleet gives the same bytes. Nothing else (no header): operators concatenate
 * it with lines of their own, such as the hub's user.
 */
export function renderPasswordFile(entries: PasswdEntry[]): string {
  return [...entries]
    .sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0))
    .map((entry) => `${entry.username}:${entry.mosquittoHash}\n`)
    .join('');
}
