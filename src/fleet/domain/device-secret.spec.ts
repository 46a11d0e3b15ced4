import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { hashDeviceSecret, newDeviceSecret, secretMatches } from './device-secret.js';

describe('device secrets', () => {
  it('are 32 random bytes in base64url (43 characters, no padding), never the same twice', () => {
    const a = newDeviceSecret();
    const b = newDeviceSecret();
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(a, 'base64url').length, 32);
    assert.notEqual(a, b);
  });

  it('are stored as the sha256 hex of their text', () => {
    const secret = newDeviceSecret();
    assert.equal(hashDeviceSecret(secret), createHash('sha256').update(secret).digest('hex'));
    assert.match(hashDeviceSecret(secret), /^[0-9a-f]{64}$/);
  });

  it('match only their own hash', () => {
    const secret = newDeviceSecret();
    const stored = hashDeviceSecret(secret);
    assert.equal(secretMatches(secret, stored), true);
    assert.equal(secretMatches(newDeviceSecret(), stored), false);
    assert.equal(secretMatches(secret, stored.slice(1)), false);
    assert.equal(secretMatches('', stored), false);
  });
});
