import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { ModelRef } from '@sentinel/broker/protocol';
import {
  beginSignatureCheck,
  SignatureError,
  type SignatureCheck,
  type TrustedKey,
} from '@sentinel/broker/signing';
import { AgentError } from '../errors.js';

/**
 * What a model's signature asks of the download, decided before any byte is fetched:
 * - `none`: accept with no verified signature (unsigned, or signed while no key is trusted and
 *   signatures are not required: the agent has nothing to verify with, so it cannot tell a good
 *   bundle from a bad one, and says so with `signature: null`);
 * - `dsse`: an in-toto attestation of the sha256, already verified: the bytes only need to hash
 *   to that sha256;
 * - `message`: a signature over the bytes, checked in the same pass as the sha256.
 */
export type SignaturePlan =
  | { kind: 'none' }
  | { kind: 'dsse' }
  | { kind: 'message'; bundleJson: string; bundleDigest: string };

export function planSignature(
  model: ModelRef,
  sha256: string,
  trustedKeys: TrustedKey[],
  requireSigned: boolean,
): SignaturePlan {
  const label = `${model.name} ${model.version}`;
  if (model.signature === null || model.signature === undefined) {
    if (requireSigned) throw new AgentError('unsigned', `model ${label} has no signature`);
    return { kind: 'none' };
  }
  if (trustedKeys.length === 0) {
    if (requireSigned) {
      throw new AgentError(
        'unsigned',
        `model ${label} is signed but no trusted keys are configured`,
      );
    }
    return { kind: 'none' };
  }
  const bundleJson = JSON.stringify(model.signature);
  const check = beginCheck(bundleJson, model, sha256, trustedKeys);
  if (check.needsBytes) {
    return { kind: 'message', bundleJson, bundleDigest: sha256Hex(bundleJson) };
  }
  // The attestation names the digest; nothing of the bytes is needed, so verify before downloading.
  finishCheck(check, sha256, label);
  return { kind: 'dsse' };
}

/** Starts a check for a message-signature plan; throws AgentError('bad_signature') for a bad bundle. */
export function beginCheck(
  bundleJson: string,
  model: ModelRef,
  sha256: string,
  trustedKeys: TrustedKey[],
): SignatureCheck {
  try {
    return beginSignatureCheck(bundleJson, { sha256, size: model.size }, trustedKeys);
  } catch (error) {
    throw badSignature(error, `${model.name} ${model.version}`);
  }
}

export function finishCheck(check: SignatureCheck, computedSha256: string, label: string): string {
  try {
    return check.finish(computedSha256).key_hint;
  } catch (error) {
    throw badSignature(error, label);
  }
}

function badSignature(error: unknown, label: string): AgentError {
  // SignatureError messages are one line for people; anything else is still a failed check.
  const message = error instanceof SignatureError ? error.message : (error as Error).message;
  return new AgentError('bad_signature', `model ${label}: ${message}`, { cause: error });
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

interface VerifiedRecord {
  bundle_sha256: string;
  key_hint: string;
}

// A model is rarely re-signed; a handful of records per file is plenty.
const MAX_RECORDS = 8;

/**
 * `<sha256>.sig.json` beside a cached model: which message-signature bundles already verified over
 * its bytes, and with which key. A later fetch of the same bytes with the same bundle, while that
 * key is still trusted, needs no second read of the file. It lives in the agent's own data folder,
 * as trusted as the cached model itself (whoever can rewrite one can rewrite the other).
 */
export class VerifiedSignatures {
  constructor(private readonly path: string) {}

  async has(bundleDigest: string, trustedKeys: TrustedKey[]): Promise<boolean> {
    const records = await this.read();
    return records.some(
      (r) => r.bundle_sha256 === bundleDigest && trustedKeys.some((k) => k.hint === r.key_hint),
    );
  }

  async add(bundleDigest: string, keyHint: string): Promise<void> {
    const records = (await this.read()).filter((r) => r.bundle_sha256 !== bundleDigest);
    records.push({ bundle_sha256: bundleDigest, key_hint: keyHint });
    const temporary = `${this.path}.tmp`;
    await writeFile(temporary, JSON.stringify({ verified: records.slice(-MAX_RECORDS) }));
    await rename(temporary, this.path);
  }

  private async read(): Promise<VerifiedRecord[]> {
    try {
      const value = JSON.parse(await readFile(this.path, 'utf8')) as { verified?: unknown };
      return Array.isArray(value.verified)
        ? (value.verified as VerifiedRecord[]).filter(
            (r) => typeof r?.bundle_sha256 === 'string' && typeof r?.key_hint === 'string',
          )
        : [];
    } catch {
      return []; // missing or unreadable: verify again
    }
  }
}
