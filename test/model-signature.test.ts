import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createSign, randomFillSync, sign } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { bundleToJSON, toMessageSignatureBundle } from '@sigstore/bundle';
import { peakRssDuring, rssOf } from './support/rss.js';
import {
  attestDigestAsDsseBundle,
  generateSigningKey,
  signBufferAsBundle,
  signFileAsBundle,
  type SigningKey,
} from './support/signing.js';
import {
  beginSignatureCheck,
  ED25519_MAX_ARTIFACT_BYTES,
  parseBundle,
  SignatureError,
  verifyModelSignature,
  type ArtifactSource,
} from '@sentinel/broker/signing';
import { parseTrustedKeys, type TrustedKey } from '@sentinel/broker/signing';

const MiB = 1024 * 1024;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';

interface CountingSource extends ArtifactSource {
  opens: number;
}

/** An artifact on disk, as the store would describe it: sha256 and size computed by streaming. */
async function fileSource(path: string): Promise<CountingSource> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  const source: CountingSource = {
    sha256: hash.digest('hex'),
    size,
    opens: 0,
    open: async () => {
      source.opens += 1;
      return createReadStream(path);
    },
  };
  return source;
}

function memorySource(data: Buffer, overrides: Partial<ArtifactSource> = {}): CountingSource {
  const source: CountingSource = {
    sha256: createHash('sha256').update(data).digest('hex'),
    size: data.length,
    opens: 0,
    open: async () => {
      source.opens += 1;
      return Readable.from([data]);
    },
    ...overrides,
  };
  return source;
}

/** Writes `bytes` of random data in 1 MiB pieces, never holding more than one piece. */
async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const file = await open(path, 'w');
  const piece = Buffer.alloc(MiB);
  try {
    for (let written = 0; written < bytes; written += piece.length) {
      randomFillSync(piece);
      await file.write(piece, 0, Math.min(piece.length, bytes - written));
    }
  } finally {
    await file.close();
  }
}

function trust(...keys: SigningKey[]): TrustedKey[] {
  return parseTrustedKeys(keys.map((k) => k.publicKeyPem).join('\n'));
}

/** Applies `change` to the parsed bundle JSON and serialises it again. */
function edit(bundleJson: string, change: (bundle: Json) => void): string {
  const bundle = JSON.parse(bundleJson) as Json;
  change(bundle);
  return JSON.stringify(bundle);
}

function flipByte(base64: string, index = 10): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index] ^= 0x01;
  return bytes.toString('base64');
}

async function assertSignatureError(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.ok(
      error instanceof SignatureError,
      `expected a SignatureError, got ${error.name}: ${error.message}`,
    );
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /[\r\n]/);
    return true;
  });
}

describe('verifyModelSignature', () => {
  let dir: string;
  let smallPath: string;
  let small: CountingSource;
  let smallBundle: string;
  const signer = generateSigningKey('ecdsa-p256');
  const stranger = generateSigningKey('ecdsa-p256');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'model-signature-'));
    smallPath = join(dir, 'small.onnx');
    await writeRandomFile(smallPath, 4 * MiB + 123);
    small = await fileSource(smallPath);
    smallBundle = await signFileAsBundle(smallPath, signer);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('beginSignatureCheck (the caller reads the artifact once and feeds it)', () => {
    it('verifies a message signature from chunks fed as they arrive', async () => {
      const check = beginSignatureCheck(smallBundle, small, trust(signer));
      assert.equal(check.needsBytes, true);
      for await (const chunk of createReadStream(smallPath, { highWaterMark: 64 * 1024 })) {
        check.update(chunk as Buffer);
      }
      assert.equal(check.finish(small.sha256).key_hint, signer.hint);
    });

    it('refuses when the fed bytes differ from the signed ones', async () => {
      const check = beginSignatureCheck(smallBundle, small, trust(signer));
      const bytes = await readFile(smallPath);
      bytes[1000] ^= 0xff;
      check.update(bytes);
      assert.throws(() => check.finish(small.sha256), SignatureError);
    });

    it('needs no bytes for a DSSE attestation but still compares the computed digest', async () => {
      const bundle = await attestDigestAsDsseBundle(small.sha256, 'small.onnx', signer);
      const check = beginSignatureCheck(bundle, small, trust(signer));
      assert.equal(check.needsBytes, false);
      assert.throws(() => check.finish('0'.repeat(64)), /read back with sha256/);
      assert.equal(check.finish(small.sha256).kind, 'dsse');
    });

    it('refuses a malformed bundle before any byte is read', () => {
      assert.throws(() => beginSignatureCheck('{', small, trust(signer)), SignatureError);
    });
  });

  describe('message signature bundles (cosign sign-blob --new-bundle-format)', () => {
    it('verifies an ECDSA P-256 signature over a file', async () => {
      const source = await fileSource(smallPath);
      const result = await verifyModelSignature(smallBundle, source, trust(stranger, signer));
      assert.deepEqual(result, {
        key_hint: signer.hint,
        bundle_media_type: V03,
        kind: 'message_signature',
        signed_digest: small.sha256,
      });
      assert.equal(source.opens, 1);
    });

    it('writes cosign v0.3 bundles that parseBundle accepts', () => {
      const json = JSON.parse(smallBundle) as Json;
      assert.equal(json.mediaType, V03);
      assert.equal(json.verificationMaterial.publicKey.hint, signer.hint);
      assert.equal(json.messageSignature.messageDigest.algorithm, 'SHA2_256');
      assert.equal(
        Buffer.from(json.messageSignature.messageDigest.digest, 'base64').toString('hex'),
        small.sha256,
      );
      assert.equal(parseBundle(Buffer.from(smallBundle)).content.$case, 'messageSignature');
    });

    it('streams a 100 MiB model instead of holding it in memory', async (t) => {
      const bigPath = join(dir, 'big.onnx');
      await writeRandomFile(bigPath, 100 * MiB);
      const big = await fileSource(bigPath);
      const bundle = await signFileAsBundle(bigPath, signer);
      const keys = trust(signer);
      const baseline = rssOf(process.pid);
      const { result, peak } = await peakRssDuring(
        process.pid,
        () => verifyModelSignature(bundle, big, keys),
        5,
      );
      const growth = peak - baseline;
      t.diagnostic(
        `RSS during verification of a ${big.size / MiB} MiB artifact: baseline ${(baseline / MiB).toFixed(1)} MiB, ` +
          `peak ${(peak / MiB).toFixed(1)} MiB, growth ${(growth / MiB).toFixed(1)} MiB`,
      );
      assert.equal(result.signed_digest, big.sha256);
      // Reading the model into memory would grow RSS by at least its size.
      assert.ok(
        growth < big.size / 2,
        `RSS grew by ${growth} bytes for a ${big.size}-byte artifact`,
      );
      await rm(bigPath);
    });

    it('verifies RSA and ECDSA P-384 signatures by streaming too', async () => {
      for (const alg of ['rsa-2048', 'ecdsa-p384'] as const) {
        const key = generateSigningKey(alg);
        const result = await verifyModelSignature(
          await signFileAsBundle(smallPath, key),
          small,
          trust(key),
        );
        assert.equal(result.key_hint, key.hint, alg);
      }
    });

    it('verifies a bundle whose digest is SHA2_384, checking that digest over the bytes read', async () => {
      const key = generateSigningKey('ecdsa-p384');
      const data = await readFile(smallPath);
      const digest384 = createHash('sha384').update(data).digest();
      const signature = createSign('sha384').update(data).sign(key.privateKey);
      const json = JSON.stringify(
        bundleToJSON(toMessageSignatureBundle({ digest: digest384, signature, keyHint: key.hint })),
      );
      const sha384Bundle = edit(json, (b) => {
        b.messageSignature.messageDigest.algorithm = 'SHA2_384';
      });
      assert.equal(
        (await verifyModelSignature(sha384Bundle, small, trust(key))).key_hint,
        key.hint,
      );

      const otherDigest = edit(sha384Bundle, (b) => {
        b.messageSignature.messageDigest.digest = createHash('sha384')
          .update('other')
          .digest('base64');
      });
      await assertSignatureError(
        verifyModelSignature(otherDigest, small, trust(key)),
        /different artifact \(digest mismatch\)/,
      );
    });

    it('refuses a signature by a key that is not trusted', async () => {
      await assertSignatureError(
        verifyModelSignature(smallBundle, small, trust(stranger)),
        new RegExp(
          `bundle names untrusted key "${signer.hint.replace(/[+/]/g, '\\$&')}"; signature does not verify with trusted key ${stranger.hint.replace(/[+/]/g, '\\$&')}`,
        ),
      );
    });

    it('refuses an artifact that differs from the signed one by one byte, without reading it', async () => {
      const tamperedPath = join(dir, 'tampered.onnx');
      await copyFile(smallPath, tamperedPath);
      const file = await open(tamperedPath, 'r+');
      const byte = Buffer.alloc(1);
      await file.read(byte, 0, 1, 2 * MiB);
      byte[0] ^= 0xff;
      await file.write(byte, 0, 1, 2 * MiB);
      await file.close();
      const tampered = await fileSource(tamperedPath);
      assert.notEqual(tampered.sha256, small.sha256);

      await assertSignatureError(
        verifyModelSignature(smallBundle, tampered, trust(signer)),
        /^signature is for a different artifact \(digest mismatch\)$/,
      );
      assert.equal(tampered.opens, 0);

      // A forger who also rewrites the bundle's digest still fails: the signature covers the bytes.
      const forged = edit(smallBundle, (b) => {
        b.messageSignature.messageDigest.digest = Buffer.from(tampered.sha256, 'hex').toString(
          'base64',
        );
      });
      await assertSignatureError(
        verifyModelSignature(forged, tampered, trust(signer)),
        new RegExp(
          `^signature does not verify with trusted key ${signer.hint.replace(/[+/]/g, '\\$&')}$`,
        ),
      );
      assert.equal(tampered.opens, 1);
    });

    it('fails with a plain error when the stored bytes do not match their recorded sha256', async () => {
      const data = await readFile(smallPath);
      data[100] ^= 0x01;
      const lying = memorySource(data, { sha256: small.sha256 });
      await assert.rejects(
        verifyModelSignature(smallBundle, lying, trust(signer)),
        (error: Error) => {
          assert.ok(!(error instanceof SignatureError));
          assert.match(error.message, /read back with sha256/);
          return true;
        },
      );
    });

    it('refuses a tampered signature', async () => {
      const tampered = edit(smallBundle, (b) => {
        b.messageSignature.signature = flipByte(b.messageSignature.signature, 20);
      });
      await assertSignatureError(
        verifyModelSignature(tampered, small, trust(signer)),
        /signature does not verify with trusted key/,
      );
      const truncated = edit(smallBundle, (b) => {
        b.messageSignature.signature = Buffer.from('short').toString('base64');
      });
      await assertSignatureError(
        verifyModelSignature(truncated, small, trust(signer)),
        /signature does not verify/,
      );
    });

    it('refuses a bundle for another artifact without reading the artifact', async () => {
      const other = memorySource(Buffer.from('another model'));
      await assertSignatureError(
        verifyModelSignature(smallBundle, other, trust(signer)),
        /^signature is for a different artifact \(digest mismatch\)$/,
      );
      assert.equal(other.opens, 0);
    });

    it('picks the trusted key by cosign hint or hex hint, and tries every key for an unknown or empty hint', async () => {
      const keys = trust(stranger, signer);
      const hexHint = Buffer.from(signer.hint, 'base64').toString('hex');
      for (const hint of [signer.hint, hexHint, 'release-key-2026', '']) {
        const bundle = edit(smallBundle, (b) => {
          b.verificationMaterial.publicKey.hint = hint;
        });
        assert.equal(
          (await verifyModelSignature(bundle, small, keys)).key_hint,
          signer.hint,
          `hint ${hint}`,
        );
      }
      const unknownHint = edit(smallBundle, (b) => {
        b.verificationMaterial.publicKey.hint = 'release-key-2026';
      });
      await assertSignatureError(
        verifyModelSignature(unknownHint, small, trust(stranger, generateSigningKey())),
        /^bundle names untrusted key "release-key-2026"; signature does not verify with any of the 2 trusted keys$/,
      );
    });

    it('ignores transparency-log entries it cannot check offline', async () => {
      const withTlog = edit(smallBundle, (b) => {
        b.verificationMaterial.tlogEntries = [
          {
            logIndex: '25579',
            logId: { keyId: Buffer.alloc(32, 1).toString('base64') },
            kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
            integratedTime: '1700000000',
            inclusionProof: {
              logIndex: '25579',
              rootHash: Buffer.alloc(32, 2).toString('base64'),
              treeSize: '25580',
              hashes: [Buffer.alloc(32, 3).toString('base64')],
              checkpoint: {
                envelope: 'rekor.sigstore.dev - 1\n25580\nAAAA\n\n— rekor.sigstore.dev AAAA\n',
              },
            },
            canonicalizedBody: Buffer.from('{}').toString('base64'),
          },
        ];
      });
      assert.equal(
        (await verifyModelSignature(withTlog, small, trust(signer))).kind,
        'message_signature',
      );
    });

    it('refuses certificate (keyless) bundles', async () => {
      const keyless = edit(smallBundle, (b) => {
        b.verificationMaterial = {
          certificate: { rawBytes: Buffer.from('not really a cert').toString('base64') },
        };
      });
      await assertSignatureError(
        verifyModelSignature(keyless, small, trust(signer)),
        /keyless\) signatures are not supported/,
      );
    });
  });

  describe('Ed25519', () => {
    const ed = generateSigningKey('ed25519');

    it('verifies a small artifact in memory', async () => {
      const data = Buffer.from('a small ed25519-signed model');
      const bundle = await signBufferAsBundle(data, ed);
      const result = await verifyModelSignature(bundle, memorySource(data), trust(ed));
      assert.equal(result.key_hint, ed.hint);
      const fromFile = await verifyModelSignature(
        await signFileAsBundle(smallPath, ed),
        small,
        trust(ed),
      );
      assert.equal(fromFile.signed_digest, small.sha256);
    });

    it('refuses a tampered signature', async () => {
      const data = Buffer.from('a small ed25519-signed model');
      const tampered = edit(await signBufferAsBundle(data, ed), (b) => {
        b.messageSignature.signature = flipByte(b.messageSignature.signature, 5);
      });
      await assertSignatureError(
        verifyModelSignature(tampered, memorySource(data), trust(ed)),
        /does not verify with trusted key/,
      );
    });

    it('refuses artifacts over the in-memory limit without reading them, pointing to DSSE', async () => {
      const data = Buffer.from('pretend this is big');
      const bundle = await signBufferAsBundle(data, ed);
      const big = memorySource(data, { size: ED25519_MAX_ARTIFACT_BYTES + 1 });
      await assertSignatureError(
        verifyModelSignature(bundle, big, trust(ed)),
        /Ed25519 .* DSSE attestation .*cosign attest-blob/,
      );
      assert.equal(big.opens, 0);
    });

    it('stops buffering when an artifact turns out larger than its recorded size', async () => {
      const piece = Buffer.alloc(MiB, 7);
      const pieces = ED25519_MAX_ARTIFACT_BYTES / MiB + 1;
      const hash = createHash('sha256');
      for (let i = 0; i < pieces; i++) hash.update(piece);
      const sha256 = hash.digest('hex');
      const bundle = JSON.stringify(
        bundleToJSON(
          toMessageSignatureBundle({
            digest: Buffer.from(sha256, 'hex'),
            signature: sign(null, Buffer.concat(Array(pieces).fill(piece)), ed.privateKey),
            keyHint: ed.hint,
          }),
        ),
      );
      const misreported: ArtifactSource = {
        sha256,
        size: 10,
        open: async () => Readable.from(Array(pieces).fill(piece)),
      };
      await assertSignatureError(
        verifyModelSignature(bundle, misreported, trust(ed)),
        /Ed25519 .* this artifact has 68157440/,
      );
    });
  });

  describe('DSSE bundles (cosign attest-blob)', () => {
    it('verifies an in-toto statement naming the artifact, without reading the artifact', async () => {
      const source = memorySource(Buffer.from('x'), { sha256: small.sha256, size: small.size });
      const bundle = await attestDigestAsDsseBundle(small.sha256, 'small.onnx', signer);
      const result = await verifyModelSignature(bundle, source, trust(stranger, signer));
      assert.deepEqual(result, {
        key_hint: signer.hint,
        bundle_media_type: V03,
        kind: 'dsse',
        signed_digest: small.sha256,
      });
      assert.equal(source.opens, 0);
    });

    it('accepts an upper-case digest and Ed25519 keys', async () => {
      const ed = generateSigningKey('ed25519');
      const bundle = await attestDigestAsDsseBundle(small.sha256.toUpperCase(), 'small.onnx', ed);
      assert.equal((await verifyModelSignature(bundle, small, trust(ed))).kind, 'dsse');
    });

    it('refuses a statement that names another artifact', async () => {
      const other = createHash('sha256').update('other').digest('hex');
      const bundle = await attestDigestAsDsseBundle(other, 'other.onnx', signer);
      await assertSignatureError(
        verifyModelSignature(bundle, small, trust(signer)),
        new RegExp(
          `^attestation is for a different artifact \\(no subject with sha256 ${small.sha256}\\)$`,
        ),
      );
    });

    it('refuses a statement rewritten to name the artifact after signing', async () => {
      const other = createHash('sha256').update('other').digest('hex');
      const forged = edit(await attestDigestAsDsseBundle(other, 'm.onnx', signer), (b) => {
        const statement = Buffer.from(b.dsseEnvelope.payload, 'base64')
          .toString('utf8')
          .replace(other, small.sha256);
        b.dsseEnvelope.payload = Buffer.from(statement).toString('base64');
      });
      await assertSignatureError(
        verifyModelSignature(forged, small, trust(signer)),
        /^signature does not verify with trusted key/,
      );
    });

    it('refuses an attestation by an untrusted key', async () => {
      const bundle = await attestDigestAsDsseBundle(small.sha256, 'small.onnx', stranger);
      await assertSignatureError(
        verifyModelSignature(bundle, small, trust(signer)),
        /untrusted key .*signature does not verify/,
      );
    });

    it('refuses a DSSE payload that is not an in-toto statement', async () => {
      const bundle = edit(
        await attestDigestAsDsseBundle(small.sha256, 'small.onnx', signer),
        (b) => {
          b.dsseEnvelope.payloadType = 'text/plain';
        },
      );
      await assertSignatureError(
        verifyModelSignature(bundle, small, trust(signer)),
        /unsupported DSSE payload type "text\/plain"/,
      );
    });
  });

  describe('malformed input', () => {
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['malformed JSON', '{"mediaType": ', /^signature bundle is not valid JSON$/],
      [
        'JSON that is not an object',
        '[1, 2]',
        /^not a Sigstore bundle \(expected a JSON object\)$/,
      ],
      ['JSON null', 'null', /^not a Sigstore bundle \(expected a JSON object\)$/],
      [
        'a garbage object',
        Buffer.from('{"hello": "world", "n": 1}'),
        /^not a Sigstore bundle \(no mediaType\)$/,
      ],
      [
        'another media type',
        '{"mediaType": "application/json"}',
        /^not a Sigstore bundle \(media type "application\/json"\)$/,
      ],
      [
        'an unknown bundle version',
        '{"mediaType": "application/vnd.dev.sigstore.bundle.v0.9+json"}',
        /^unsupported Sigstore bundle media type "application\/vnd\.dev\.sigstore\.bundle\.v0\.9\+json"$/,
      ],
      [
        'a bundle without content',
        `{"mediaType": "${V03}"}`,
        /^invalid Sigstore bundle \(bad or missing: content, verificationMaterial\)$/,
      ],
      [
        'a media type with a line break',
        '{"mediaType": "evil\\nsecond line"}',
        /^not a Sigstore bundle \(media type "evil\\nsecond line"\)$/,
      ],
    ];
    for (const [name, json, pattern] of cases) {
      it(`refuses ${name}`, async () => {
        assert.throws(() => parseBundle(json), SignatureError);
        await assertSignatureError(verifyModelSignature(json, small, trust(signer)), pattern);
      });
    }

    it('refuses every bundle when no keys are trusted', async () => {
      await assertSignatureError(
        verifyModelSignature(smallBundle, small, []),
        /^no trusted keys configured$/,
      );
    });

    it('rejects an artifact sha256 that is not hex as a programming error', async () => {
      const bad = memorySource(Buffer.from('x'), { sha256: 'sha256:abc' });
      await assert.rejects(verifyModelSignature(smallBundle, bad, trust(signer)), TypeError);
    });
  });
});
