import { X509Certificate } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import {
  createSecureContext,
  type SecureContextOptions,
  type Server as TlsServer,
  type TLSSocket,
} from 'node:tls';

/** PEM files of a TLS server: its certificate (chain) and key, and the CA of client certificates. */
export interface TlsFilePaths {
  certFile: string;
  keyFile: string;
  /** CA (bundle) that signs device certificates; unset: no client certificates are asked for. */
  clientCaFile?: string;
}

/** A TLS file that cannot be used; the message is one line naming the file and the reason. */
export class TlsFilesError extends Error {
  override name = 'TlsFilesError';
}

function readPem(label: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new TlsFilesError(`${label} ${path} cannot be read (${code})`);
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The certificates of a PEM bundle (a CA file). Throws when there is none, or one does not parse:
 * OpenSSL silently ignores what it cannot read in a CA, which would trust nothing without a word.
 */
export function parseCertificates(pem: string | Buffer): X509Certificate[] {
  const blocks = pem.toString().match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate in it');
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new Error(`certificate ${i + 1} does not parse: ${(error as Error).message}`, {
        cause: error,
      });
    }
  });
}

/**
 * Reads the files and checks they make a usable context (PEM that parses, a key that matches the
 * certificate). Throws TlsFilesError.
 */
export function readTlsFiles(paths: TlsFilePaths): SecureContextOptions {
  const options: SecureContextOptions = {
    cert: readPem('certificate', paths.certFile),
    key: readPem('key', paths.keyFile),
  };
  if (paths.clientCaFile) options.ca = readPem('client CA', paths.clientCaFile);
  try {
    if (options.ca) parseCertificates(options.ca as Buffer);
    createSecureContext(options);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new TlsFilesError(
      `certificate ${paths.certFile} / key ${paths.keyFile}` +
        `${paths.clientCaFile ? ` / client CA ${paths.clientCaFile}` : ''} unusable: ${reason}`,
    );
  }
  return options;
}

/** The client certificate of a TLS connection, as far as the broker and the hub care. */
export interface PeerCertificate {
  /** The subject's common name; null when it has none or more than one. */
  cn: string | null;
  /** Signed by the configured client CA and valid now. */
  verified: boolean;
  /** Why it is not verified (OpenSSL's code, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
  error: string | null;
}

/** The peer certificate a client presented on a TLS socket, or null when it presented none. */
export function peerCertificateOf(socket: TLSSocket): PeerCertificate | null {
  const certificate = socket.getPeerCertificate();
  if (!certificate || Object.keys(certificate).length === 0) return null;
  const cn = certificate.subject?.CN as string | string[] | undefined;
  const authorizationError = socket.authorizationError as Error | string | null | undefined;
  return {
    cn: typeof cn === 'string' && cn.length > 0 ? cn : null,
    verified: socket.authorized,
    error: socket.authorized
      ? null
      : authorizationError instanceof Error
        ? authorizationError.message
        : String(authorizationError ?? 'unverified'),
  };
}

export interface TlsReloadLogger {
  warn(msg: string): void;
  info(msg: string): void;
}

/** How often the files are looked at (a stat each); a changed file is read again. */
export const TLS_WATCH_INTERVAL_MS = 1000;

/**
 * The TLS files of one or more servers, read again when one changes on disk: attached servers get
 * the new context (`setSecureContext`) for new connections; open connections keep theirs. A
 * replacement that does not make a usable context (a key that does not match yet, half-written
 * PEM) is logged and skipped, and the servers keep the last good files.
 */
export class TlsReloader {
  private current: SecureContextOptions;
  private readonly servers = new Set<TlsServer>();
  private readonly watched: string[];
  private readonly listener = (now: Stats, before: Stats) => {
    if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino)
      this.reload();
  };

  constructor(
    readonly paths: TlsFilePaths,
    private readonly logger: TlsReloadLogger,
    intervalMs = TLS_WATCH_INTERVAL_MS,
  ) {
    this.current = readTlsFiles(paths);
    this.watched = [paths.certFile, paths.keyFile, paths.clientCaFile].filter(
      (path): path is string => path !== undefined,
    );
    for (const path of this.watched)
      watchFile(path, { interval: intervalMs, persistent: false }, this.listener);
  }

  /** The last good context options (for a server being created). */
  get options(): SecureContextOptions {
    return this.current;
  }

  attach(server: TlsServer): void {
    this.servers.add(server);
    server.once('close', () => this.servers.delete(server));
  }

  /** Reads the files again; true when the servers got a new context. */
  reload(): boolean {
    let next: SecureContextOptions;
    try {
      next = readTlsFiles(this.paths);
    } catch (error) {
      this.logger.warn(`tls: keeping the previous certificate: ${(error as Error).message}`);
      return false;
    }
    this.current = next;
    for (const server of this.servers) server.setSecureContext(next);
    this.logger.info(`tls: reloaded ${this.paths.certFile}`);
    return true;
  }

  close(): void {
    for (const path of this.watched) unwatchFile(path, this.listener);
    this.servers.clear();
  }
}
