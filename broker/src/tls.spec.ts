import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect, createServer, type Server } from 'node:tls';
import { parseCertificates, readTlsFiles, TlsFilesError, TlsReloader } from './tls.js';

const dir = mkdtempSync(join(tmpdir(), 'broker-tls-'));

/** A self-signed certificate for 127.0.0.1 made with the openssl binary. */
function selfSigned(name: string): { cert: string; key: string } {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
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
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return files;
}

function served(server: Server, ca: Buffer): Promise<string> {
  const { port } = server.address() as { port: number };
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca }, () => {
      resolve(socket.getPeerCertificate().subject.CN as string);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('readTlsFiles', () => {
  const one = selfSigned('one');
  const two = selfSigned('two');

  it('reads a matching certificate and key, and a client CA', () => {
    const options = readTlsFiles({ certFile: one.cert, keyFile: one.key, clientCaFile: two.cert });
    assert.ok(options.cert && options.key && options.ca);
  });

  it('refuses, in one line naming the file, what cannot make a context', () => {
    const cases: [Parameters<typeof readTlsFiles>[0], RegExp][] = [
      [{ certFile: one.cert, keyFile: two.key }, /one\.crt .*two\.key unusable: .*mismatch/i],
      [
        { certFile: join(dir, 'none.crt'), keyFile: one.key },
        /none\.crt cannot be read \(ENOENT\)/,
      ],
      [{ certFile: one.key, keyFile: one.key }, /unusable/],
    ];
    const garbage = join(dir, 'garbage.pem');
    writeFileSync(garbage, 'hello\n');
    cases.push([
      { certFile: one.cert, keyFile: one.key, clientCaFile: garbage },
      /client CA .*garbage\.pem unusable: no PEM certificate in it/,
    ]);
    for (const [paths, pattern] of cases) {
      assert.throws(
        () => readTlsFiles(paths),
        (error: Error) =>
          error instanceof TlsFilesError &&
          pattern.test(error.message) &&
          !/\n/.test(error.message),
      );
    }
  });

  it('parseCertificates reads every certificate of a bundle', () => {
    const bundle = readFileSync(one.cert, 'utf8') + readFileSync(two.cert, 'utf8');
    const certificates = parseCertificates(bundle);
    assert.deepEqual(
      certificates.map((c: X509Certificate) => c.subject),
      ['CN=one', 'CN=two'],
    );
    assert.throws(
      () => parseCertificates('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
      /certificate 1 does not parse/,
    );
  });
});

describe('TlsReloader', () => {
  it('gives attached servers new files, and keeps the last good ones when a change is unusable', async () => {
    const first = selfSigned('first');
    const second = selfSigned('second');
    const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    copyFileSync(first.cert, live.cert);
    copyFileSync(first.key, live.key);
    const logged: string[] = [];
    const reloader = new TlsReloader(
      { certFile: live.cert, keyFile: live.key },
      { warn: (m) => logged.push(`warn ${m}`), info: (m) => logged.push(`info ${m}`) },
      60_000, // the test calls reload() itself
    );
    const server = createServer(reloader.options, (socket) => socket.end());
    reloader.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const trustBoth = Buffer.concat([readFileSync(first.cert), readFileSync(second.cert)]);
    try {
      assert.equal(await served(server, trustBoth), 'first');
      // half a rotation: the new key beside the old certificate
      copyFileSync(second.key, live.key);
      assert.equal(reloader.reload(), false);
      assert.match(logged.at(-1)!, /^warn tls: keeping the previous certificate: .*unusable/);
      assert.equal(await served(server, trustBoth), 'first');
      copyFileSync(second.cert, live.cert);
      assert.equal(reloader.reload(), true);
      assert.equal(await served(server, trustBoth), 'second');
    } finally {
      reloader.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
