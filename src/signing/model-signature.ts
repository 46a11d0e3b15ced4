import { createHash, createVerify, verify as verifyInMemory, type Verify } from 'node:crypto';
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

export interface ArtifactSource {
  /** sha256 hex of the stored bytes, as computed when they were stored. */
  sha256: string;
  size: number;
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

/**
 * Verifies a key-signed Sigstore bundle for an artifact against the trusted keys, offline.
 * messageSignature bundles (`cosign sign-blob --key --new-bundle-format`) are checked over the
 * artifact's bytes, streamed; DSSE bundles carrying an in-toto statement (`cosign attest-blob`)
 * must name the artifact's sha256 as a subject and need no read of the artifact.
 * Transparency-log entries and RFC 3161 timestamps in the bundle are not checked (no network,
 * no Rekor/TSA keys): trust comes from the configured keys alone, as with cosign's
 * `--insecure-ignore-tlog`.
 */
export async function verifyModelSignature(
  bundleJson: string | Buffer,
  artifact: ArtifactSource,
  trustedKeys: TrustedKey[],
): Promise<VerifiedSignature> {
  const bundle = parseBundle(bundleJson);
  if (trustedKeys.length === 0)
    throw new SignatureError('no trusted keys configured (TRUSTED_KEYS)');
  const sha256 = normaliseSha256(artifact.sha256);
  const selection = selectKeys(signerHint(bundle), trustedKeys);
  const content = bundle.content;
  const signer =
    content.$case === 'messageSignature'
      ? await verifyMessageSignature(content.messageSignature, artifact, sha256, selection)
      : verifyDsseAttestation(bundle as BundleWithDsseEnvelope, sha256, selection);
  return {
    key_hint: signer.hint,
    bundle_media_type: bundle.mediaType,
    kind: content.$case === 'messageSignature' ? 'message_signature' : 'dsse',
    signed_digest: sha256,
  };
}

async function verifyMessageSignature(
  message: MessageSignature,
  artifact: ArtifactSource,
  sha256: string,
  selection: KeySelection,
): Promise<TrustedKey> {
  const algorithm = MESSAGE_DIGEST_ALGORITHMS[message.messageDigest.algorithm];
  if (!algorithm) {
    throw new SignatureError(
      `unsupported message digest algorithm (protobuf value ${message.messageDigest.algorithm}); expected SHA2_256`,
    );
  }
  const claimedDigest = Buffer.from(message.messageDigest.digest).toString('hex');
  // @sigstore/verify never compares messageDigest with the artifact when there is no tlog entry.
  if (algorithm === 'sha256' && claimedDigest !== sha256) throw digestMismatch();

  const streamable = selection.keys.filter((k) => k.key.asymmetricKeyType !== 'ed25519');
  let inMemory = selection.keys.filter((k) => k.key.asymmetricKeyType === 'ed25519');
  if (inMemory.length > 0 && artifact.size > ED25519_MAX_ARTIFACT_BYTES) {
    if (streamable.length === 0) throw ed25519TooLarge(artifact.size);
    inMemory = [];
  }

  const verifiers = streamable.map((key) => ({ key, verify: createVerify(algorithm) }));
  const read = await readArtifact(artifact, {
    digestAlgorithm: algorithm,
    verifiers: verifiers.map((v) => v.verify),
    keepUpTo: inMemory.length > 0 ? ED25519_MAX_ARTIFACT_BYTES : 0,
  });
  if (read.sha256 !== sha256) {
    // Not the signer's fault: the store handed back other bytes than it recorded.
    throw new Error(`artifact ${sha256} read back with sha256 ${read.sha256}`);
  }
  if (read.digest !== claimedDigest) throw digestMismatch();

  const signature = Buffer.from(message.signature);
  for (const { key, verify } of verifiers) {
    if (safely(() => verify.verify(key.key, signature))) return key;
  }
  if (inMemory.length > 0 && !read.bytes) throw ed25519TooLarge(read.size);
  for (const key of inMemory) {
    if (safely(() => verifyInMemory(null, read.bytes as Buffer, key.key, signature))) return key;
  }
  throw noTrustedSignature(selection);
}

interface ReadResult {
  sha256: string;
  /** Hex digest with the bundle's algorithm. */
  digest: string;
  size: number;
  /** The whole artifact, if it was asked for and fitted. */
  bytes?: Buffer;
}

async function readArtifact(
  artifact: ArtifactSource,
  options: { digestAlgorithm: string; verifiers: Verify[]; keepUpTo: number },
): Promise<ReadResult> {
  const sha256 = createHash('sha256');
  const digest =
    options.digestAlgorithm === 'sha256' ? sha256 : createHash(options.digestAlgorithm);
  let chunks: Buffer[] | undefined = options.keepUpTo > 0 ? [] : undefined;
  let size = 0;
  const stream = (await artifact.open()) as AsyncIterable<Buffer | string>;
  for await (const piece of stream) {
    const chunk = typeof piece === 'string' ? Buffer.from(piece) : piece;
    size += chunk.length;
    sha256.update(chunk);
    if (digest !== sha256) digest.update(chunk);
    for (const verify of options.verifiers) verify.update(chunk);
    if (chunks && size > options.keepUpTo) chunks = undefined;
    chunks?.push(chunk);
  }
  const sha256Hex = sha256.digest('hex');
  return {
    sha256: sha256Hex,
    digest: digest === sha256 ? sha256Hex : digest.digest('hex'),
    size,
    bytes: chunks ? Buffer.concat(chunks) : undefined,
  };
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
