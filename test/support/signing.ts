import { createHash, createSign, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { bundleToJSON, toMessageSignatureBundle } from '@sigstore/bundle';
import { DSSEBundleBuilder, type Signer } from '@sigstore/sign';
import { keyHint } from '@sentinel/broker/signing';

export type SigningKeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048' | 'ed25519';

export interface SigningKey {
  privateKey: KeyObject;
  publicKeyPem: string;
  /** cosign hint: base64(sha256(DER public key)). */
  hint: string;
}

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
// What `cosign attest-blob` uses when no --type is given.
const COSIGN_CUSTOM_PREDICATE = 'https://cosign.sigstore.dev/attestation/v1';

/** A fresh key pair, as `cosign generate-key-pair` would give (P-256 by default). */
export function generateSigningKey(alg: SigningKeyAlgorithm = 'ecdsa-p256'): SigningKey {
  const { privateKey, publicKey } = generateKeyPair(alg);
  return {
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    hint: keyHint(publicKey),
  };
}

/**
 * Signs a file like `cosign sign-blob --key k --bundle b --new-bundle-format --tlog-upload=false`:
 * a v0.3 bundle with a message signature over the file's bytes, their sha256 and the key hint.
 * ECDSA and RSA keys sign by streaming; Ed25519 cannot, so the file is read into memory.
 */
export async function signFileAsBundle(path: string, key: SigningKey): Promise<string> {
  if (isEd25519(key)) return signBufferAsBundle(await readFile(path), key);
  const signer = createSign('sha256');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) {
    signer.update(chunk as Buffer);
    hash.update(chunk as Buffer);
  }
  return messageSignatureBundle(hash.digest(), signer.sign(key.privateKey), key);
}

/** signFileAsBundle for bytes in memory. */
export async function signBufferAsBundle(data: Buffer, key: SigningKey): Promise<string> {
  const digest = createHash('sha256').update(data).digest();
  return messageSignatureBundle(digest, signBytes(data, key), key);
}

/**
 * Like `cosign attest-blob --key k --new-bundle-format --tlog-upload=false`: a v0.3 bundle with a
 * DSSE envelope over an in-toto statement whose one subject is `name` with digest `sha256Hex`.
 */
export async function attestDigestAsDsseBundle(
  sha256Hex: string,
  name: string,
  key: SigningKey,
): Promise<string> {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name, digest: { sha256: sha256Hex } }],
    predicateType: COSIGN_CUSTOM_PREDICATE,
    predicate: {},
  };
  const signer: Signer = {
    sign: async (data) => ({
      signature: signBytes(data, key),
      key: { $case: 'publicKey', publicKey: key.publicKeyPem, hint: key.hint },
    }),
  };
  const bundle = await new DSSEBundleBuilder({ signer, witnesses: [] }).create({
    data: Buffer.from(JSON.stringify(statement)),
    type: IN_TOTO_PAYLOAD_TYPE,
  });
  return JSON.stringify(bundleToJSON(bundle));
}

function messageSignatureBundle(digest: Buffer, signature: Buffer, key: SigningKey): string {
  // Without a certificate chain this writes the v0.3 media type, as cosign does.
  return JSON.stringify(
    bundleToJSON(toMessageSignatureBundle({ digest, signature, keyHint: key.hint })),
  );
}

function signBytes(data: Buffer, key: SigningKey): Buffer {
  return isEd25519(key)
    ? sign(null, data, key.privateKey)
    : createSign('sha256').update(data).sign(key.privateKey);
}

function isEd25519(key: SigningKey): boolean {
  return key.privateKey.asymmetricKeyType === 'ed25519';
}

function generateKeyPair(alg: SigningKeyAlgorithm): {
  privateKey: KeyObject;
  publicKey: KeyObject;
} {
  switch (alg) {
    case 'ecdsa-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ecdsa-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'rsa-2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
  }
}
