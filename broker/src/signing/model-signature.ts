import {
  createHash,
  createVerify,
  verify as verifyInMemory,
  type Hash,
  type Verify,
} from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  bundleFromJSON,
  ValidationError,
  type Bundle,
  type BundleWithDsseEnvelope,
  type MessageSignature,
} from '@sigstore/bundle';
import {
  toSignedEntity,
  toTrustMaterial,
  VerificationError,
  Verifier,
  type SignedEntity,
} from '@sigstore/verify';
import type { TrustedKey } from './trusted-keys.js';

export type { Bundle } from '@sigstore/bundle';

/** A signature that is missing, malformed or untrusted. The message is one user-facing line. */
export class SignatureError extends Error {
  constructor(message: string) {
    super(oneLine(message));
    this.name = 'SignatureError';
  }
}

export interface VerifiedSignature {
  /** cosign hint (base64 sha256 of the DER public key) of the trusted key that verified. */
  key_hint: string;
  bundle_media_type: string;
  kind: 'message_signature' | 'dsse';
  /** sha256 hex of the artifact the signature was verified for. */
  signed_digest: string;
}

export interface ArtifactSource extends ArtifactIdentity {
  open(): Promise<NodeJS.ReadableStream | Readable>;
}

/** Node cannot verify Ed25519 incrementally, so such artifacts are read into memory up to this. */
export const ED25519_MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;

export const SUPPORTED_BUNDLE_MEDIA_TYPES: readonly string[] = [
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
];

const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const IN_TOTO_STATEMENT_TYPES = [
  'https://in-toto.io/Statement/v0.1',
  'https://in-toto.io/Statement/v1',
];
// HashAlgorithm wire values of sigstore's protobuf-specs (sigstore_common.proto); protobuf enum
// numbers never change, and the package that defines the enum is not a direct dependency.
const MESSAGE_DIGEST_ALGORITHMS: Record<number, string> = { 1: 'sha256', 2: 'sha384', 3: 'sha512' };
const EMPTY_TRUSTED_ROOT = {
  mediaType: '',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

interface KeySelection {
  /** Keys to try, in order. */
  keys: TrustedKey[];
  /** The key hint the bundle carries ('' if none). */
  hint: string;
  /** Whether that hint named one of the trusted keys (then `keys` holds only that key). */
  matched: boolean;
}

/** Parses and structurally validates a Sigstore bundle; throws SignatureError if it is not one. */
export function parseBundle(json: string | Buffer): Bundle {
  let value: unknown;
  try {
    value = JSON.parse(typeof json === 'string' ? json : json.toString('utf8'));
  } catch {
    throw new SignatureError('signature bundle is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SignatureError('not a Sigstore bundle (expected a JSON object)');
  }
  const mediaType: unknown = (value as Record<string, unknown>).mediaType;
  if (typeof mediaType !== 'string' || mediaType === '') {
    throw new SignatureError('not a Sigstore bundle (no mediaType)');
  }
  if (!SUPPORTED_BUNDLE_MEDIA_TYPES.includes(mediaType)) {
    throw new SignatureError(
      mediaType.startsWith('application/vnd.dev.sigstore.bundle')
        ? `unsupported Sigstore bundle media type ${quote(mediaType)}`
        : `not a Sigstore bundle (media type ${quote(mediaType)})`,
    );
  }
  try {
    return bundleFromJSON(value);
  } catch (error) {
    if (error instanceof ValidationError) {
      throw new SignatureError(
        `invalid Sigstore bundle (bad or missing: ${(error.fields ?? []).join(', ')})`,
      );
    }
    throw new SignatureError(`invalid Sigstore bundle (${(error as Error).message})`);
  }
}

/** What a signature check needs to know of the artifact before reading it. */
export interface ArtifactIdentity {
  /** sha256 hex the artifact must have. */
  sha256: string;
  size: number;
}

/**
 * One signature check over an artifact that is read once, by the caller: an agent feeds the
 * chunks as they arrive from the network, the hub as it reads them back from storage.
 */
export interface SignatureCheck {
  /** Whether `update` must see every byte (message signatures); DSSE attestations need none. */
  readonly needsBytes: boolean;
  update(chunk: Buffer): void;
  /**
   * Ends the check. `computedSha256` is the digest the caller computed over the bytes it fed;
   * it must equal the expected sha256 (the caller's integrity check, done before this).
   */
  finish(computedSha256: string): VerifiedSignature;
}

/**
 * Starts verifying a key-signed Sigstore bundle for an artifact against the trusted keys, offline.
 * messageSignature bundles (`cosign sign-blob --key --new-bundle-format`) are checked over the
 * artifact's bytes, streamed; DSSE bundles carrying an in-toto statement (`cosign attest-blob`)
 * must name the artifact's sha256 as a subject and need no read of the artifact.
 * Transparency-log entries and RFC 3161 timestamps in the bundle are not checked (no network,
 * no Rekor/TSA keys): trust comes from the configured keys alone, as with cosign's
 * `--insecure-ignore-tlog`. Throws SignatureError at once for a malformed bundle.
 */
export function beginSignatureCheck(
  bundleJson: string | Buffer,
  artifact: ArtifactIdentity,
  trustedKeys: TrustedKey[],
): SignatureCheck {
  const bundle = parseBundle(bundleJson);
  if (trustedKeys.length === 0) throw new SignatureError('no trusted keys configured');
  const sha256 = normaliseSha256(artifact.sha256);
  const selection = selectKeys(signerHint(bundle), trustedKeys);
  const content = bundle.content;
  const result = (signer: TrustedKey): VerifiedSignature => ({
    key_hint: signer.hint,
    bundle_media_type: bundle.mediaType,
    kind: content.$case === 'messageSignature' ? 'message_signature' : 'dsse',
    signed_digest: sha256,
  });
  if (content.$case === 'messageSignature') {
    const check = new MessageSignatureCheck(
      content.messageSignature,
      artifact.size,
      sha256,
      selection,
    );
    return {
      needsBytes: true,
      update: (chunk) => check.update(chunk),
      finish: (computed) => result(check.finish(computed)),
    };
  }
  return {
    needsBytes: false,
    update: () => undefined,
    finish: (computed) => {
      if (computed.toLowerCase() !== sha256) throw new Error(readBackMismatch(sha256, computed));
      return result(verifyDsseAttestation(bundle as BundleWithDsseEnvelope, sha256, selection));
    },
  };
}

/** Verifies a signature over an artifact it reads from `artifact.open()` (see beginSignatureCheck). */
export async function verifyModelSignature(
  bundleJson: string | Buffer,
  artifact: ArtifactSource,
  trustedKeys: TrustedKey[],
): Promise<VerifiedSignature> {
  const check = beginSignatureCheck(bundleJson, artifact, trustedKeys);
  if (!check.needsBytes) return check.finish(artifact.sha256);
  const hash = createHash('sha256');
  const stream = (await artifact.open()) as AsyncIterable<Buffer | string>;
  for await (const piece of stream) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
    hash.update(chunk);
    check.update(chunk);
  }
  const computed = hash.digest('hex');
  // Not the signer's fault: the store handed back other bytes than it recorded.
  if (computed !== artifact.sha256.toLowerCase()) {
    throw new Error(readBackMismatch(artifact.sha256, computed));
  }
  return check.finish(computed);
}

class MessageSignatureCheck {
  private readonly claimedDigest: string;
  /** Hash with the bundle's algorithm when it is not sha256 (sha256 the caller computes). */
  private readonly otherDigest?: Hash;
  private readonly verifiers: { key: TrustedKey; verify: Verify }[];
  private readonly inMemory: TrustedKey[];
  private chunks?: Buffer[];
  private size = 0;

  constructor(
    private readonly message: MessageSignature,
    expectedSize: number,
    sha256: string,
    private readonly selection: KeySelection,
  ) {
    const algorithm = MESSAGE_DIGEST_ALGORITHMS[message.messageDigest.algorithm];
    if (!algorithm) {
      throw new SignatureError(
        `unsupported message digest algorithm (protobuf value ${message.messageDigest.algorithm}); expected SHA2_256`,
      );
    }
    this.claimedDigest = Buffer.from(message.messageDigest.digest).toString('hex');
    // @sigstore/verify never compares messageDigest with the artifact when there is no tlog entry.
    if (algorithm === 'sha256' && this.claimedDigest !== sha256) throw digestMismatch();
    if (algorithm !== 'sha256') this.otherDigest = createHash(algorithm);

    const streamable = selection.keys.filter((k) => k.key.asymmetricKeyType !== 'ed25519');
    let inMemory = selection.keys.filter((k) => k.key.asymmetricKeyType === 'ed25519');
    if (inMemory.length > 0 && expectedSize > ED25519_MAX_ARTIFACT_BYTES) {
      if (streamable.length === 0) throw ed25519TooLarge(expectedSize);
      inMemory = [];
    }
    this.inMemory = inMemory;
    this.verifiers = streamable.map((key) => ({ key, verify: createVerify(algorithm) }));
    if (inMemory.length > 0) this.chunks = [];
  }

  update(chunk: Buffer): void {
    this.size += chunk.length;
    this.otherDigest?.update(chunk);
    for (const { verify } of this.verifiers) verify.update(chunk);
    if (this.chunks && this.size > ED25519_MAX_ARTIFACT_BYTES) this.chunks = undefined;
    this.chunks?.push(chunk);
  }

  finish(computedSha256: string): TrustedKey {
    const digest = this.otherDigest ? this.otherDigest.digest('hex') : computedSha256.toLowerCase();
    if (digest !== this.claimedDigest) throw digestMismatch();
    const signature = Buffer.from(this.message.signature);
    for (const { key, verify } of this.verifiers) {
      if (safely(() => verify.verify(key.key, signature))) return key;
    }
    if (this.inMemory.length > 0 && !this.chunks) throw ed25519TooLarge(this.size);
    const bytes = this.chunks ? Buffer.concat(this.chunks) : Buffer.alloc(0);
    for (const key of this.inMemory) {
      if (safely(() => verifyInMemory(null, bytes, key.key, signature))) return key;
    }
    throw noTrustedSignature(this.selection);
  }
}

function readBackMismatch(expected: string, computed: string): string {
  return `artifact ${expected} read back with sha256 ${computed}`;
}

function verifyDsseAttestation(
  bundle: BundleWithDsseEnvelope,
  sha256: string,
  selection: KeySelection,
): TrustedKey {
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new SignatureError(
      `unsupported DSSE payload type ${quote(envelope.payloadType)} (expected ${IN_TOTO_PAYLOAD_TYPE})`,
    );
  }
  let entity: SignedEntity;
  try {
    // Offline: the bundle's tlog entries and timestamps cannot be checked (see verifyModelSignature).
    entity = { ...toSignedEntity(bundle), tlogEntries: [], timestamps: [] };
  } catch (error) {
    throw new SignatureError(`invalid Sigstore bundle (${(error as Error).message})`);
  }
  const signer = selection.keys.find((key) => envelopeVerifies(entity, key));
  if (!signer) throw noTrustedSignature(selection);
  if (!statementSubjectDigests(envelope.payload).includes(sha256)) {
    throw new SignatureError(
      `attestation is for a different artifact (no subject with sha256 ${sha256})`,
    );
  }
  return signer;
}

function envelopeVerifies(entity: SignedEntity, key: TrustedKey): boolean {
  const trustMaterial = toTrustMaterial(EMPTY_TRUSTED_ROOT, () => ({
    publicKey: key.key,
    validFor: () => true,
  }));
  const verifier = new Verifier(trustMaterial, {
    tlogThreshold: 0,
    ctlogThreshold: 0,
    timestampThreshold: 0,
  });
  try {
    verifier.verify(entity);
    return true;
  } catch (error) {
    if (error instanceof VerificationError && error.code === 'SIGNATURE_ERROR') return false;
    throw new SignatureError(`signature bundle does not verify (${(error as Error).message})`);
  }
}

/** The lower-case sha256 digests of an in-toto statement's subjects. */
function statementSubjectDigests(payload: Buffer): string[] {
  let statement: unknown;
  try {
    statement = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new SignatureError('attestation payload is not JSON');
  }
  const { _type, subject } = (statement ?? {}) as { _type?: unknown; subject?: unknown };
  if (
    typeof _type !== 'string' ||
    !IN_TOTO_STATEMENT_TYPES.includes(_type) ||
    !Array.isArray(subject)
  ) {
    throw new SignatureError('attestation payload is not an in-toto statement with subjects');
  }
  return subject
    .map((s: { digest?: { sha256?: unknown } } | null) => s?.digest?.sha256)
    .filter((d): d is string => typeof d === 'string')
    .map((d) => d.toLowerCase());
}

function signerHint(bundle: Bundle): string {
  const material = bundle.verificationMaterial.content;
  if (material.$case !== 'publicKey') {
    throw new SignatureError(
      'certificate (keyless) signatures are not supported; sign with a trusted key (cosign sign-blob --key)',
    );
  }
  if (material.publicKey.hint) return material.publicKey.hint;
  const content = bundle.content;
  return content.$case === 'dsseEnvelope' ? (content.dsseEnvelope.signatures[0]?.keyid ?? '') : '';
}

/**
 * The bundle's hint is unauthenticated: it only picks which trusted key to try. It may be the
 * cosign hint (base64 sha256 of the DER public key) or the same digest in hex. If it names no
 * trusted key, every trusted key is tried.
 */
function selectKeys(hint: string, trustedKeys: TrustedKey[]): KeySelection {
  const hex = hint.toLowerCase();
  const named = trustedKeys.find(
    (k) => k.hint === hint || Buffer.from(k.hint, 'base64').toString('hex') === hex,
  );
  return named
    ? { keys: [named], hint, matched: true }
    : { keys: trustedKeys, hint, matched: false };
}

function noTrustedSignature(selection: KeySelection): SignatureError {
  const untrusted =
    selection.hint && !selection.matched
      ? `bundle names untrusted key ${quote(selection.hint)}; `
      : '';
  const tried =
    selection.keys.length === 1
      ? `trusted key ${selection.keys[0].hint}`
      : `any of the ${selection.keys.length} trusted keys`;
  return new SignatureError(`${untrusted}signature does not verify with ${tried}`);
}

function digestMismatch(): SignatureError {
  return new SignatureError('signature is for a different artifact (digest mismatch)');
}

function ed25519TooLarge(size: number): SignatureError {
  return new SignatureError(
    `Ed25519 message signatures are verified in memory, up to ${ED25519_MAX_ARTIFACT_BYTES} bytes; ` +
      `this artifact has ${size}: sign a DSSE attestation of its sha256 instead (cosign attest-blob)`,
  );
}

function normaliseSha256(value: string): string {
  const sha256 = value.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256))
    throw new TypeError(`artifact sha256 is not 64 hex digits: ${quote(value)}`);
  return sha256;
}

function safely(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    // A malformed signature (e.g. wrong length for an RSA key) throws instead of returning false.
    return false;
  }
}

/** Quotes text from the bundle for a message: bounded length, JSON-escaped. */
function quote(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}

function oneLine(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 400 ? `${line.slice(0, 400)}…` : line;
}
