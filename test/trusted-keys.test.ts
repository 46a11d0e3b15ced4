import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from './support/signing.js';
import { keyHint, parseTrustedKeys } from '@sentinel/broker/signing';

// A P-256 key and its hint computed independently with
// `openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`.
const OPENSSL_KEY = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEWkEE6wXBQYP8g8cTPVmZGtHDD1kH
0oMj05FB6NFPANoaqYzjG1ZgSuJHTVV70+NpOGEMLazY5pjMkGDG+ViH9g==
-----END PUBLIC KEY-----`;
const OPENSSL_HINT = 'x1Ap9/MAX76VLTh1Rj17p/WIIjSJTgX5x0AkWlEOfAs=';
const X25519_KEY = `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VuAyEAD+p4PQUF2qXGOA45hoKHqJ8QCQdbt7MxoSwNYGD5zi8=
-----END PUBLIC KEY-----`;
const RSA_1024_KEY = `-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDUymvfFOaxXuqW6ffpd3+m0Wmi
vTS5+QY/b2Jnar/l4UX3KIs10VQxmr8idgc82L+e/F+w+UV56eWBR4nrWIMmHtZY
v+pjPUTBt94aFhtBVMRF0J86kEJ9NP/o7kIBKqle8Qwd5zje0H6nMHFYxvhj6XgC
nk0jfCfPieWqQr3nqwIDAQAB
-----END PUBLIC KEY-----`;

function assertOneLineError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: Error) => {
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /\n/);
    assert.match(error.message, /^TRUSTED_KEYS: /);
    return true;
  });
}

describe('keyHint', () => {
  it('is the cosign hint, base64(sha256(DER SPKI)), as openssl computes it', () => {
    assert.equal(keyHint(OPENSSL_KEY), OPENSSL_HINT);
    assert.equal(keyHint(createPublicKey(OPENSSL_KEY)), OPENSSL_HINT);
  });

  it('takes a private key object and hints its public half', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const der = publicKey.export({ type: 'spki', format: 'der' });
    const expected = createHash('sha256').update(der).digest('base64');
    assert.equal(keyHint(privateKey), expected);
    assert.equal(keyHint(publicKey), expected);
  });
});

describe('parseTrustedKeys', () => {
  let dir: string;
  const ecdsa = generateSigningKey('ecdsa-p256');
  const ed25519 = generateSigningKey('ed25519');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trusted-keys-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads two keys from PEM text, with their hints and algorithms', () => {
    const keys = parseTrustedKeys(`${ecdsa.publicKeyPem}\n${ed25519.publicKeyPem}`);
    assert.deepEqual(
      keys.map((k) => [k.hint, k.algorithm]),
      [
        [ecdsa.hint, 'ecdsa-p256'],
        [ed25519.hint, 'ed25519'],
      ],
    );
    assert.equal(keys[0].pem, ecdsa.publicKeyPem);
    assert.equal(keys[1].key.asymmetricKeyType, 'ed25519');
  });

  it('names RSA and P-384 keys by size and curve', () => {
    const keys = parseTrustedKeys(
      generateSigningKey('rsa-2048').publicKeyPem + generateSigningKey('ecdsa-p384').publicKeyPem,
    );
    assert.deepEqual(
      keys.map((k) => k.algorithm),
      ['rsa-2048', 'ecdsa-p384'],
    );
  });

  it('accepts PEM text with literal \\n escapes, as env files carry it', () => {
    const escaped = ecdsa.publicKeyPem.trim().replace(/\n/g, '\\n');
    assert.deepEqual(
      parseTrustedKeys(escaped).map((k) => k.hint),
      [ecdsa.hint],
    );
  });

  it('reads keys from a file, ignoring text around the blocks, and keeps a repeated key once', async () => {
    const path = join(dir, 'trusted.pem');
    await writeFile(
      path,
      `# release signing key\n${ecdsa.publicKeyPem}\n# CI key\n${ed25519.publicKeyPem}${ecdsa.publicKeyPem}`,
    );
    const keys = parseTrustedKeys(path);
    assert.deepEqual(
      keys.map((k) => k.hint),
      [ecdsa.hint, ed25519.hint],
    );
  });

  it('gives no keys when unset or blank', () => {
    assert.deepEqual(parseTrustedKeys(undefined), []);
    assert.deepEqual(parseTrustedKeys('  \n'), []);
  });

  it('refuses a path that does not exist, with the path in one line', () => {
    const path = join(dir, 'missing.pem');
    assertOneLineError(
      () => parseTrustedKeys(path),
      new RegExp(`cannot read key file "${path}" \\(ENOENT\\)`),
    );
  });

  it('refuses a directory', () => {
    assertOneLineError(() => parseTrustedKeys(dir), /cannot read key file .*not a regular file/);
  });

  it('refuses a file without keys', async () => {
    const path = join(dir, 'empty.pem');
    await writeFile(path, 'no keys here\n');
    assertOneLineError(
      () => parseTrustedKeys(path),
      /no "-----BEGIN PUBLIC KEY-----" block in key file/,
    );
  });

  it('refuses PEM text without a PUBLIC KEY block', () => {
    assertOneLineError(
      () => parseTrustedKeys('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'),
      /no "-----BEGIN PUBLIC KEY-----" block in the value/,
    );
  });

  it('refuses a private key instead of deriving the public key from it', () => {
    const pem = ecdsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assertOneLineError(
      () => parseTrustedKeys(pem + ed25519.publicKeyPem),
      /contains a private key/,
    );
  });

  it('refuses a block that is not a key', () => {
    assertOneLineError(
      () =>
        parseTrustedKeys(
          `${ecdsa.publicKeyPem}-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----`,
        ),
      /key 2 in the value is not a valid public key/,
    );
  });

  it('refuses key types that cannot sign models, and short RSA keys', () => {
    assertOneLineError(() => parseTrustedKeys(X25519_KEY), /unsupported key \(x25519\)/);
    assertOneLineError(() => parseTrustedKeys(RSA_1024_KEY), /unsupported key \(rsa 1024\)/);
  });
});
