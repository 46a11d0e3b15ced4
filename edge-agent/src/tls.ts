import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates } from 'node:tls';
import { parseCertificates } from '@sentinel/broker/protocol';

/**
 * What the agent adds to its TLS connections (mqtts, wss, https): CAs to trust besides the
 * system's (a hub with a private CA), and a client certificate and key for mTLS (CN = device id).
 * The fields are those of `tls.connect`, so the object spreads into mqtt.js and node:https options.
 */
export interface ClientTls {
  ca?: string[];
  cert?: Buffer;
  key?: Buffer;
}

export interface ClientTlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

function read(setting: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(
      `${setting} ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      { cause: error },
    );
  }
}

/**
 * Reads and checks the files (PEM that parses, a key that matches the certificate); undefined
 * when none is set. Throws an Error whose message is one line naming the setting.
 */
export function loadClientTls(files: ClientTlsFiles): ClientTls | undefined {
  if (!files.caFile && !files.certFile && !files.keyFile) return undefined;
  if (Boolean(files.certFile) !== Boolean(files.keyFile)) {
    throw new Error(
      files.certFile
        ? 'SENTINEL_TLS_CERT_FILE needs SENTINEL_TLS_KEY_FILE'
        : 'SENTINEL_TLS_KEY_FILE needs SENTINEL_TLS_CERT_FILE',
    );
  }
  const tls: ClientTls = {};
  if (files.caFile) {
    const ca = read('SENTINEL_TLS_CA_FILE', files.caFile).toString('utf8');
    try {
      parseCertificates(ca);
    } catch (error) {
      throw new Error(
        `SENTINEL_TLS_CA_FILE ${files.caFile} is not PEM certificates: ${firstLine(error)}`,
        { cause: error },
      );
    }
    // Node's `ca` replaces the system roots; the hub's CA comes in addition to them.
    tls.ca = [...rootCertificates, ca];
  }
  if (files.certFile && files.keyFile) {
    tls.cert = read('SENTINEL_TLS_CERT_FILE', files.certFile);
    tls.key = read('SENTINEL_TLS_KEY_FILE', files.keyFile);
    try {
      createSecureContext({ cert: tls.cert, key: tls.key });
    } catch (error) {
      throw new Error(
        `SENTINEL_TLS_CERT_FILE / SENTINEL_TLS_KEY_FILE unusable: ${firstLine(error)}`,
        { cause: error },
      );
    }
  }
  return tls;
}

function firstLine(error: unknown): string {
  return String((error as Error).message ?? error).split('\n')[0]!;
}
