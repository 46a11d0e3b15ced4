import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/** A public key that model signatures may be made with (TRUSTED_KEYS). */
export interface TrustedKey {
  /** base64(sha256(DER SubjectPublicKeyInfo)): the key hint cosign writes into bundles. */
  hint: string;
  /** The key as one normalised `-----BEGIN PUBLIC KEY-----` block. */
  pem: string;
  key: KeyObject;
  /** 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'rsa-<bits>' | 'ed25519' */
  algorithm: string;
}

const PUBLIC_KEY_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g;
const PRIVATE_KEY_MARKER = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
// A key file is a few KiB; refuse to slurp a model someone pointed TRUSTED_KEYS at by mistake.
const MAX_KEY_FILE_BYTES = 1024 * 1024;
const CURVE_NAMES: Record<string, string> = {
  prime256v1: 'p256',
  secp384r1: 'p384',
  secp521r1: 'p521',
};

/**
 * Reads TRUSTED_KEYS: PEM text with one or more PUBLIC KEY blocks (literal `\n` escapes, as env
 * files often carry them, are accepted), or the path of a file holding such text. Unset or blank
 * gives no keys; a key listed twice is kept once. Throws an Error with a one-line message starting
 * "<variable>: " for an unreadable path, text or a file without keys, a private key, an invalid
 * key, or a key type that cannot verify model signatures.
 */
export function parseTrustedKeys(
  value: string | undefined,
  variable = 'TRUSTED_KEYS',
): TrustedKey[] {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') return [];
  try {
    if (trimmed.includes('-----BEGIN')) {
      return keysFromPem(trimmed.replace(/\\n/g, '\n'), 'the value');
    }
    return keysFromPem(readKeyFile(trimmed), `key file "${trimmed}"`);
  } catch (error) {
    throw new Error(`${variable}: ${(error as Error).message}`, { cause: error });
  }
}

/** The cosign key hint, base64(sha256(DER SPKI)), of a public key or of a private key's public half. */
export function keyHint(pemOrKeyObject: string | KeyObject): string {
  const publicKey =
    typeof pemOrKeyObject !== 'string' && pemOrKeyObject.type === 'public'
      ? pemOrKeyObject
      : createPublicKey(pemOrKeyObject);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

function readKeyFile(path: string): string {
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new Error('not a regular file');
    if (stat.size > MAX_KEY_FILE_BYTES)
      throw new Error(`${stat.size} bytes, too large for a key file`);
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new Error(`cannot read key file "${path}" (${reason})`, { cause: error });
  }
}

function keysFromPem(text: string, source: string): TrustedKey[] {
  if (PRIVATE_KEY_MARKER.test(text)) {
    throw new Error(`${source} contains a private key; configure public keys only`);
  }
  const blocks = text.match(PUBLIC_KEY_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw new Error(`no "-----BEGIN PUBLIC KEY-----" block in ${source}`);
  }
  const byHint = new Map<string, TrustedKey>();
  blocks.forEach((block, index) => {
    const trusted = toTrustedKey(block, `key ${index + 1} in ${source}`);
    if (!byHint.has(trusted.hint)) byHint.set(trusted.hint, trusted);
  });
  return [...byHint.values()];
}

function toTrustedKey(block: string, where: string): TrustedKey {
  let key: KeyObject;
  try {
    key = createPublicKey(block);
  } catch {
    throw new Error(`${where} is not a valid public key`);
  }
  const algorithm = algorithmOf(key);
  if (!algorithm) {
    const details = key.asymmetricKeyDetails;
    const type = [key.asymmetricKeyType, details?.namedCurve, details?.modulusLength]
      .filter((part) => part !== undefined)
      .join(' ');
    throw new Error(
      `${where} is an unsupported key (${type}); use ECDSA P-256/P-384/P-521, RSA >= 2048 bits or Ed25519`,
    );
  }
  const pem = key.export({ type: 'spki', format: 'pem' }).toString();
  return { hint: keyHint(key), pem, key, algorithm };
}

function algorithmOf(key: KeyObject): string | undefined {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = CURVE_NAMES[details.namedCurve ?? ''];
      return curve ? `ecdsa-${curve}` : undefined;
    }
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      return bits >= 2048 ? `rsa-${bits}` : undefined;
    }
    case 'ed25519':
      return 'ed25519';
    default:
      return undefined;
  }
}
