// Certificates made by the test itself with the `openssl` binary, and HTTPS/TLS calls that trust
// them (the global fetch cannot be given a CA).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';

const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
[dn]
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:FALSE
subjectAltName = IP:127.0.0.1,DNS:localhost
extendedKeyUsage = serverAuth
[client_ext]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
`;

export interface CertFiles {
  cert: string;
  key: string;
}

/** A throw-away PKI in a temp folder: CAs, server and client certificates (P-256, 2 days). */
export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'sentinel-pki-'));
  private readonly config = join(this.dir, 'openssl.cnf');
  private serial = 0;

  constructor() {
    writeFileSync(this.config, OPENSSL_CONFIG);
  }

  /** A self-signed CA. */
  ca(name: string): CertFiles {
    return this.issue(name, `/CN=${name}`, 'ca_ext');
  }

  /** A server certificate for 127.0.0.1 and localhost, signed by `ca`. */
  server(ca: CertFiles, name = 'server'): CertFiles {
    return this.issue(name, '/CN=localhost', 'server_ext', ca);
  }

  /** A client certificate whose CN is `cn` (a device id), signed by `ca`. */
  client(ca: CertFiles, cn: string, name = `client-${cn}`): CertFiles {
    return this.issue(name, `/CN=${cn}`, 'client_ext', ca);
  }

  /** Replaces `target`'s files by `source`'s, each with an atomic rename (as a deploy tool would). */
  replace(target: CertFiles, source: CertFiles): void {
    for (const which of ['key', 'cert'] as const) {
      const staged = `${target[which]}.new`;
      writeFileSync(staged, readFileSync(source[which]));
      renameSync(staged, target[which]);
    }
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private issue(name: string, subject: string, extensions: string, ca?: CertFiles): CertFiles {
    const files = { cert: join(this.dir, `${name}.crt`), key: join(this.dir, `${name}.key`) };
    this.serial += 1;
    execFileSync(
      'openssl',
      [
        'req',
        '-config',
        this.config,
        '-x509',
        ...(ca ? ['-CA', ca.cert, '-CAkey', ca.key] : []),
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        files.key,
        '-out',
        files.cert,
        '-days',
        '2',
        '-subj',
        subject,
        '-extensions',
        extensions,
        '-set_serial',
        String(1000 + this.serial),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return files;
  }
}

export interface TlsClientOptions {
  ca?: string | Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface HttpsAnswer {
  status: number;
  body: Buffer;
  json<T = Record<string, unknown>>(): T;
}

/** One HTTPS request that trusts `tls.ca` (and presents `tls.cert` when set). */
export function httpsRequest(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    tls?: TlsClientOptions;
  } = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method ?? 'GET', headers: init.headers, ...init.tls, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            body,
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A JSON call with a bearer token, over HTTPS. */
export function httpsJson(
  base: string,
  ca: string | Buffer,
  token: string,
): (method: string, path: string, body?: unknown) => Promise<HttpsAnswer> {
  return (method, path, body) =>
    httpsRequest(base + path, {
      method,
      tls: { ca },
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}

/** POST /api/v1/models over HTTPS: text fields first, the file last, as the CLI sends them. */
export function httpsPush(
  base: string,
  ca: string | Buffer,
  token: string,
  file: Buffer,
  fields: Record<string, string>,
): Promise<HttpsAnswer> {
  const boundary = `----sentinel-${Date.now().toString(16)}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="model.onnx"\r\n` +
        'content-type: application/octet-stream\r\n\r\n',
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return httpsRequest(`${base}/api/v1/models`, {
    method: 'POST',
    tls: { ca },
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
    },
    body: Buffer.concat(parts),
  });
}

/** The SHA-256 fingerprint of the certificate a TLS server presents to a new connection. */
export function servedFingerprint(port: number, ca: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      resolve(fingerprint);
    });
    socket.on('error', reject);
  });
}

/** The fingerprint of a PEM certificate file, as servedFingerprint reports it. */
export function fingerprintOf(certFile: string): string {
  const out = execFileSync('openssl', [
    'x509',
    '-in',
    certFile,
    '-noout',
    '-fingerprint',
    '-sha256',
  ])
    .toString()
    .trim();
  return out.slice(out.indexOf('=') + 1);
}
