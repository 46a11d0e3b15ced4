// Signing helpers for the download specs, made with Sigstore's own libraries (not with the code
// under test): message-signature bundles as `cosign sign-blob --key --new-bundle-format` writes
// them, and DSSE in-toto attestations as `cosign attest-blob` does.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { bundleToJSON, toMessageSignatureBundle } from '@sigstore/bundle';
import { DSSEBundleBuilder, type Signer } from '@sigstore/sign';
import { keyHint, parseTrustedKeys, type TrustedKey } from '@sentinel/broker/signing';

export interface TestKey {
  privateKey: KeyObject;
  hint: string;
  trusted: TrustedKey;
}

export function newKey(type: 'ecdsa-p256' | 'ed25519' = 'ecdsa-p256'): TestKey {
  const { privateKey, publicKey } =
    type === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { privateKey, hint: keyHint(publicKey), trusted: parseTrustedKeys(pem)[0] };
}

function signBytes(data: Buffer, key: TestKey): Buffer {
  return key.privateKey.asymmetricKeyType === 'ed25519'
    ? sign(null, data, key.privateKey)
    : sign('sha256', data, key.privateKey);
}

/** A message-signature bundle (JSON object) over `signed`, claiming the sha256 of `digestOf`. */
export function messageSignatureBundle(
  signed: Buffer,
  key: TestKey,
  digestOf: Buffer = signed,
): Record<string, unknown> {
  const digest = createHash('sha256').update(digestOf).digest();
  return bundleToJSON(
    toMessageSignatureBundle({ digest, signature: signBytes(signed, key), keyHint: key.hint }),
  ) as unknown as Record<string, unknown>;
}

/** A DSSE bundle (JSON object) with an in-toto statement whose one subject has `sha256Hex`. */
export async function dsseBundle(
  sha256Hex: string,
  key: TestKey,
): Promise<Record<string, unknown>> {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'model.onnx', digest: { sha256: sha256Hex } }],
    predicateType: 'https://cosign.sigstore.dev/attestation/v1',
    predicate: {},
  };
  const signer: Signer = {
    sign: async (data) => ({
      signature: signBytes(data, key),
      key: {
        $case: 'publicKey',
        publicKey: key.trusted.pem,
        hint: key.hint,
      },
    }),
  };
  const bundle = await new DSSEBundleBuilder({ signer, witnesses: [] }).create({
    data: Buffer.from(JSON.stringify(statement)),
    type: 'application/vnd.in-toto+json',
  });
  return bundleToJSON(bundle) as unknown as Record<string, unknown>;
}
