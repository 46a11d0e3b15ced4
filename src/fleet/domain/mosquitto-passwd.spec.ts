import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  mosquittoPasswordHash,
  parseMosquittoHash,
  renderPasswordFile,
  verifyMosquittoHash,
} from './mosquitto-passwd.js';

// Written by the real tool: `mosquitto_passwd -b -c file cam-7 <PASSWORD>` (Mosquitto 2.0.11).
const PASSWORD = 'Zm9vYmFyLXNlY3JldC1mb3ItdGhlLXNwZWMtb25seQ';
const FROM_MOSQUITTO_PASSWD =
  '$7$101$thG3xnwrxywPpSeo$W/fnrv8NmfDucV9Kf+ZLja91UOt/YnldDi2FvjKGbekNVbw3YfGLiAlpHpsdoE+24G1OrA8s7iFxY7YPrggmIw==';

describe('Mosquitto password hashes', () => {
  it('have the $7$ shape: 101 iterations, a 12-byte salt and a 64-byte key, base64 with padding', async () => {
    const encoded = await mosquittoPasswordHash('s3cret');
    assert.match(encoded, /^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    const parts = parseMosquittoHash(encoded)!;
    assert.equal(parts.iterations, 101);
    assert.equal(parts.salt.length, 12);
    assert.equal(parts.key.length, 64);
  });

  it('are PBKDF2-HMAC-SHA512 of the password over the salt, recomputed from the parts', async () => {
    const encoded = await mosquittoPasswordHash('s3cret');
    const parts = parseMosquittoHash(encoded)!;
    const recomputed = pbkdf2Sync('s3cret', parts.salt, parts.iterations, 64, 'sha512');
    assert.ok(recomputed.equals(parts.key));
  });

  it('match what mosquitto_passwd writes for the same password and salt', async () => {
    const salt = parseMosquittoHash(FROM_MOSQUITTO_PASSWD)!.salt;
    assert.equal(await mosquittoPasswordHash(PASSWORD, salt), FROM_MOSQUITTO_PASSWD);
  });

  it('verify the right password only', async () => {
    assert.equal(verifyMosquittoHash(PASSWORD, FROM_MOSQUITTO_PASSWD), true);
    assert.equal(verifyMosquittoHash(`${PASSWORD}x`, FROM_MOSQUITTO_PASSWD), false);
    const encoded = await mosquittoPasswordHash('other');
    assert.equal(verifyMosquittoHash('other', encoded), true);
    assert.equal(verifyMosquittoHash(PASSWORD, encoded), false);
  });

  it('refuse what is not a $7$ line', () => {
    for (const bad of ['', '$6$abc$def', '$7$$abc$def', '$7$0$abc$def', 'plain', '$7$101$a b$c']) {
      assert.equal(parseMosquittoHash(bad), null, bad);
      assert.equal(verifyMosquittoHash('x', bad), false, bad);
    }
  });
});

describe('renderPasswordFile', () => {
  it('writes one user:hash line per entry, sorted by user name', () => {
    assert.equal(
      renderPasswordFile([
        { username: 'cam-2', mosquittoHash: '$7$101$b$b' },
        { username: 'cam-10', mosquittoHash: '$7$101$a$a' },
      ]),
      'cam-10:$7$101$a$a\ncam-2:$7$101$b$b\n',
    );
  });

  it('is empty for an empty fleet', () => {
    assert.equal(renderPasswordFile([]), '');
  });
});
