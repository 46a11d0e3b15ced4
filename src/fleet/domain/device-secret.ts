import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A device's MQTT password: 32 random bytes from the hub's CSPRNG. With 256 bits of entropy nobody
 * can guess it or find it from its hash by trying candidates, so a plain sha256 is a sound stored
 * form (a slow, salted hash only pays off for secrets that people choose). The same reasoning as
 * for API tokens. A fast hash also keeps a reconnect storm of thousands of devices cheap to check.
 */
export function newDeviceSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** sha256 hex of the secret as sent by the device (its UTF-8 bytes). */
export function hashDeviceSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Compares in constant time, so response timing says nothing about how much of a hash matched. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const candidate = Buffer.from(hashDeviceSecret(secret), 'utf8');
  const stored = Buffer.from(storedHash, 'utf8');
  return candidate.length === stored.length && timingSafeEqual(candidate, stored);
}
