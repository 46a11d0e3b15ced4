import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROLES, roleAllows } from './roles.js';
import { bearerToken, hashToken, newTokenSecret } from './token-secret.js';

describe('roles', () => {
  it('are ordered viewer < operator < admin', () => {
    // rows: the role a token holds; columns: the role a route requires (viewer, operator, admin)
    const expected: Record<string, boolean[]> = {
      viewer: [true, false, false],
      operator: [true, true, false],
      admin: [true, true, true],
    };
    for (const held of ROLES) {
      const required = ['viewer', 'operator', 'admin'] as const;
      assert.deepEqual(
        required.map((role) => roleAllows(held, role)),
        expected[held],
        held,
      );
    }
  });
});

describe('token secrets', () => {
  it('are random, prefixed and hashed to 64 hex characters', () => {
    const a = newTokenSecret();
    const b = newTokenSecret();
    assert.notEqual(a, b);
    assert.match(a, /^stl_[A-Za-z0-9_-]{43}$/);
    assert.match(hashToken(a), /^[0-9a-f]{64}$/);
  });
  it('reads only well-formed Bearer headers', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('bearer abc'), 'abc');
    assert.equal(bearerToken('Basic abc'), null);
    assert.equal(bearerToken('Bearer'), null);
    assert.equal(bearerToken('Bearer a b'), null);
    assert.equal(bearerToken(undefined), null);
  });
});
