import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import type { Principal } from './acl.js';
import { createBroker, type SentinelBroker } from './create-broker.js';
import type { PeerCertificate } from './tls.js';

// The TLS listeners together with the CONNECT policy: the client certificate reaches the
// authenticate hook, observers still get their own client ids, and devices their own.

const dir = mkdtempSync(join(tmpdir(), 'broker-mtls-'));

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

interface Pem {
  cert: string;
  key: string;
}

const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A self-signed certificate (a CA, or the broker's own, valid for 127.0.0.1). */
function selfSigned(cn: string): Pem {
  const files = { cert: join(dir, `${cn}.crt`), key: join(dir, `${cn}.key`) };
  openssl(
    ['req', '-x509', ...NEW_KEY, '-keyout', files.key, '-out', files.cert, '-days', '1'].concat([
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]),
  );
  return files;
}

/** A client certificate for `cn` signed by `issuer`. */
function signedBy(issuer: Pem, cn: string): Pem {
  const files = { cert: join(dir, `${cn}.crt`), key: join(dir, `${cn}.key`) };
  const csr = join(dir, `${cn}.csr`);
  openssl(['req', '-new', ...NEW_KEY, '-keyout', files.key, '-out', csr, '-subj', `/CN=${cn}`]);
  openssl(
    ['x509', '-req', '-in', csr, '-CA', issuer.cert, '-CAkey', issuer.key].concat([
      '-CAcreateserial',
      '-out',
      files.cert,
      '-days',
      '1',
    ]),
  );
  return files;
}

interface Login {
  clientId: string;
  username: string | undefined;
  certificate: PeerCertificate | null;
}

describe('createBroker with TLS listeners', () => {
  let broker: SentinelBroker;
  let server: Pem;
  let device: Pem;
  const logins: Login[] = [];
  const clients: MqttClient[] = [];

  before(async () => {
    const deviceCa = selfSigned('device-ca');
    server = selfSigned('broker');
    device = signedBy(deviceCa, 'cam-1');
    broker = await createBroker({
      host: '127.0.0.1',
      port: null,
      tls: {
        port: 0,
        wsPort: 0,
        files: { certFile: server.cert, keyFile: server.key, clientCaFile: deviceCa.cert },
      },
      observerUsername: 'obs',
      authenticate: async (client, username) => {
        logins.push({ clientId: client.id, username, certificate: client.certificate });
        if (username === 'obs') return { kind: 'observer', credentialId: 'token-1' };
        const cn = client.certificate?.verified ? client.certificate.cn : null;
        return cn ? ({ kind: 'device', deviceId: cn, group: 'lobby' } satisfies Principal) : null;
      },
    });
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const connect = async (url: string, options: IClientOptions) => {
    const client = await connectAsync(url, {
      ca: readFileSync(server.cert),
      protocolVersion: 4,
      reconnectPeriod: 0,
      ...options,
    });
    clients.push(client);
    return client;
  };

  it('opens mqtts and wss only when the plain port is null', () => {
    assert.equal(broker.port, null);
    assert.equal(broker.wsPort, null);
    assert.ok(broker.tlsPort! > 0 && broker.wssPort! > 0 && broker.tlsPort !== broker.wssPort);
  });

  it('passes the client certificate to authenticate, on mqtts and on wss', async () => {
    const mtls = { cert: readFileSync(device.cert), key: readFileSync(device.key) };
    await connect(`mqtts://127.0.0.1:${broker.tlsPort}`, { clientId: 'cam-1', ...mtls });
    const login = logins.at(-1)!;
    assert.deepEqual(login, {
      clientId: 'cam-1',
      username: undefined,
      certificate: { cn: 'cam-1', verified: true, error: null },
    });
    await connect(`wss://127.0.0.1:${broker.wssPort}`, { clientId: 'cam-1', ...mtls });
    assert.equal(logins.at(-1)!.certificate?.cn, 'cam-1');
  });

  it("puts an observer with a device's client id under observer:, with no certificate", async () => {
    const observer = await connect(`mqtts://127.0.0.1:${broker.tlsPort}`, {
      clientId: 'cam-1',
      username: 'obs',
      password: 'token',
    });
    assert.ok(observer.connected);
    assert.deepEqual(logins.at(-1), {
      clientId: 'observer:cam-1',
      username: 'obs',
      certificate: null,
    });
    assert.ok(broker.clients().some((c) => c.clientId === 'observer:cam-1'));
  });

  it('refuses a device certificate used with another client id (CONNACK 2)', async () => {
    const mtls = { cert: readFileSync(device.cert), key: readFileSync(device.key) };
    await assert.rejects(
      connect(`mqtts://127.0.0.1:${broker.tlsPort}`, { clientId: 'cam-2', ...mtls }),
      /Identifier rejected/i,
    );
  });
});

describe('createBroker with unusable TLS files', () => {
  it('rejects with one line naming the file (the broker it started is closed again)', async () => {
    await assert.rejects(
      createBroker({
        host: '127.0.0.1',
        port: 0,
        tls: { port: 0, files: { certFile: join(dir, 'missing.crt'), keyFile: 'missing.key' } },
        authenticate: async () => null,
      }),
      /certificate .*missing\.crt cannot be read/,
    );
  });
});
