// TLS end to end: a real hub process serving HTTPS, mqtts and wss only (MQTT_PLAINTEXT=false) with
// certificates this test makes with openssl, device client certificates (mTLS), certificates
// replaced on disk while the hub runs, and real agents that trust the test CA.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { groupDesiredTopic } from '@sentinel/broker';
import { ConfigError, loadConfig } from '../src/config/app-config.js';
import { spawnAgent, stopProcess, type AgentProcess } from './support/agent-fixture.js';
import { spawnHub, type HubProcess } from './support/hub.js';
import { runProcess } from './support/process.js';
import { fastModel } from './support/onnx-models.js';
import {
  TestPki,
  fingerprintOf,
  httpsJson,
  httpsPush,
  httpsRequest,
  servedFingerprint,
  type CertFiles,
} from './support/tls.js';

const HEALTHCHECK = new URL('../scripts/healthcheck.js', import.meta.url).pathname;

interface DeviceAnswer {
  credentials: { username: string; password: string; client_id: string };
}

/** Polls until `probe` returns a value; fails with `what` after `timeoutMs`. */
async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('TLS: HTTPS, mqtts, wss and device certificates', () => {
  const pki = new TestPki();
  let serverCa: CertFiles;
  let deviceCa: CertFiles;
  let hubFiles: CertFiles;
  let ca: Buffer;
  let hub: HubProcess;
  let call: ReturnType<typeof httpsJson>;
  const secrets = new Map<string, string>();
  const clients: MqttClient[] = [];

  const mqtt = async (url: string, options: IClientOptions): Promise<MqttClient> => {
    const client = await connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, ...options });
    clients.push(client);
    return client;
  };
  const mqtts = () => `mqtts://127.0.0.1:${hub.mqttTls!.port}`;
  const asDevice = (id: string): IClientOptions => ({
    ca,
    clientId: id,
    username: id,
    password: secrets.get(id),
  });
  const withCertificate = (id: string, files: CertFiles, clientId = id): IClientOptions => ({
    ca,
    clientId,
    cert: readFileSync(files.cert),
    key: readFileSync(files.key),
  });

  before(async () => {
    serverCa = pki.ca('server-ca');
    deviceCa = pki.ca('device-ca');
    hubFiles = pki.server(serverCa, 'hub');
    ca = readFileSync(serverCa.cert);
    hub = await spawnHub({
      TLS_CERT_FILE: hubFiles.cert,
      TLS_KEY_FILE: hubFiles.key,
      TLS_CLIENT_CA_FILE: deviceCa.cert,
      MQTT_PLAINTEXT: 'false',
    });
    call = httpsJson(hub.url, ca, hub.adminToken);
    const group = await call('POST', '/api/v1/groups', { name: 'yard', environment: 'production' });
    assert.equal(group.status, 201, group.body.toString());
    for (const id of ['cam-1', 'cam-2', 'cam-3', 'cam-4']) {
      const device = await call('POST', '/api/v1/devices', { id, group: 'yard' });
      assert.equal(device.status, 201, device.body.toString());
      secrets.set(id, device.json<DeviceAnswer>().credentials.password);
    }
  });

  after(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await hub?.stop();
    pki.remove();
  });

  it('serves the API over HTTPS only, and MQTT over TLS and WSS only', async () => {
    assert.match(hub.url, /^https:\/\//);
    const health = await httpsRequest(`${hub.url}/health`, { tls: { ca } });
    assert.equal(health.status, 200);
    assert.equal(hub.mqtt, null, 'no plain MQTT listener with MQTT_PLAINTEXT=false');
    assert.ok(hub.mqttTls?.port && hub.mqttTls.wsPort, hub.output());
    // clear-text HTTP on the HTTPS port gets no answer
    const port = Number(new URL(hub.url).port);
    await assert.rejects(
      new Promise((resolve, reject) =>
        httpRequest({ host: '127.0.0.1', port, path: '/health' }, resolve)
          .on('error', reject)
          .end(),
      ),
    );
  });

  it("the container's health probe reaches /health over HTTPS", async () => {
    const probe = (port: string) =>
      runProcess(process.execPath, [HEALTHCHECK], {
        ...process.env,
        PORT: port,
        TLS_CERT_FILE: hubFiles.cert,
      });
    assert.equal((await probe(new URL(hub.url).port)).code, 0);
    assert.equal((await probe(String(hub.mqttTls!.port))).code, 1, 'not an HTTP server');
  });

  it('refuses HTTPS and mqtts to a client that does not trust the hub CA', async () => {
    await assert.rejects(httpsRequest(`${hub.url}/health`), /self[- ]signed|unable to verify/i);
    await assert.rejects(
      mqtt(mqtts(), { ...asDevice('cam-1'), ca: undefined }),
      /self[- ]signed|unable to verify/i,
    );
  });

  it('lets a device log in with its secret over mqtts and over wss', async () => {
    const tcp = await mqtt(mqtts(), asDevice('cam-1'));
    const granted = await tcp.subscribeAsync(groupDesiredTopic('yard'), { qos: 1 });
    assert.equal(granted[0]?.qos, 1);
    const ws = await mqtt(`wss://127.0.0.1:${hub.mqttTls!.wsPort}`, asDevice('cam-2'));
    assert.ok(ws.connected);
  });

  it('mTLS: a certificate signed by the device CA logs its device in with no password', async () => {
    const files = pki.client(deviceCa, 'cam-3');
    const client = await mqtt(mqtts(), withCertificate('cam-3', files));
    const granted = await client.subscribeAsync(groupDesiredTopic('yard'), { qos: 1 });
    assert.equal(granted[0]?.qos, 1, 'the ACL treats it as device cam-3 of group yard');
    const wss = await mqtt(
      `wss://127.0.0.1:${hub.mqttTls!.wsPort}`,
      withCertificate('cam-3', files, 'cam-3'),
    );
    assert.ok(wss.connected);
    // over HTTPS too, on the routes devices may call
    const me = await httpsRequest(`${hub.url}/api/v1/devices/me`, {
      tls: { ca, cert: readFileSync(files.cert), key: readFileSync(files.key) },
    });
    assert.equal(me.status, 200, me.body.toString());
    assert.equal(me.json().device_id, 'cam-3');
  });

  it('mTLS: refuses a certificate of another device, of an unknown device, or of another CA', async () => {
    const cam4 = pki.client(deviceCa, 'cam-4');
    // cam-4's certificate with cam-1's client id, and with cam-1's secret besides
    await assert.rejects(mqtt(mqtts(), withCertificate('cam-4', cam4, 'cam-1')), /Bad username/i);
    await assert.rejects(
      mqtt(mqtts(), { ...withCertificate('cam-4', cam4, 'cam-1'), ...asDevice('cam-1') }),
      /Bad username/i,
    );
    const stranger = pki.client(deviceCa, 'cam-99');
    await assert.rejects(mqtt(mqtts(), withCertificate('cam-99', stranger)), /Bad username/i);
    const rogueCa = pki.ca('rogue-ca');
    const forged = pki.client(rogueCa, 'cam-1', 'forged-cam-1');
    await assert.rejects(mqtt(mqtts(), withCertificate('cam-1', forged)), /Bad username/i);
    // HTTP: cam-4's certificate with cam-1's credential
    const basic = `Basic ${Buffer.from(`cam-1:${secrets.get('cam-1')}`).toString('base64')}`;
    const mixed = await httpsRequest(`${hub.url}/api/v1/devices/me`, {
      headers: { authorization: basic },
      tls: { ca, cert: readFileSync(cam4.cert), key: readFileSync(cam4.key) },
    });
    assert.equal(mixed.status, 401);
    assert.match(mixed.json<{ message: string }>().message, /not the certificate's device cam-4/);
    // observers (API tokens) need no certificate
    const observer = await mqtt(mqtts(), {
      ca,
      clientId: 'dashboard-1',
      username: 'observer',
      password: hub.adminToken,
    });
    assert.ok(observer.connected);
  });

  it('serves a certificate replaced on disk to new connections, without a restart', async () => {
    const before = fingerprintOf(hubFiles.cert);
    const httpsPort = Number(new URL(hub.url).port);
    assert.equal(await servedFingerprint(httpsPort, ca), before);
    const open = await mqtt(mqtts(), asDevice('cam-1'));

    const next = pki.server(serverCa, 'hub-next');
    const expected = fingerprintOf(next.cert);
    assert.notEqual(expected, before);
    pki.replace(hubFiles, next);

    for (const [name, port] of [
      ['https', httpsPort],
      ['mqtts', hub.mqttTls!.port],
      ['wss', hub.mqttTls!.wsPort!],
    ] as const) {
      await eventually(`${name} to serve the new certificate`, async () =>
        (await servedFingerprint(port, ca)) === expected ? true : undefined,
      );
    }
    assert.ok(open.connected, 'a connection opened before the change stays up');
    assert.equal(hub.child.exitCode, null);
    assert.ok((await httpsRequest(`${hub.url}/health`, { tls: { ca } })).status === 200);
    assert.ok(await mqtt(mqtts(), asDevice('cam-2')));
  });

  it('agents trusting the test CA download and activate a model over https + mqtts (secret and mTLS)', async () => {
    const agents: AgentProcess[] = [];
    try {
      const certFiles = pki.client(deviceCa, 'cam-3', 'agent-cam-3');
      const common = {
        SENTINEL_MQTT_URL: mqtts(),
        SENTINEL_HUB_URL: hub.url,
        SENTINEL_TLS_CA_FILE: serverCa.cert,
        SENTINEL_API: '127.0.0.1:0',
      };
      agents.push(
        await spawnAgent({
          ...common,
          SENTINEL_DEVICE_ID: 'cam-1',
          SENTINEL_MQTT_PASSWORD: secrets.get('cam-1')!,
          SENTINEL_DATA_DIR: join(pki.dir, 'agent-cam-1'),
        }),
        await spawnAgent({
          ...common,
          SENTINEL_DEVICE_ID: 'cam-3',
          SENTINEL_TLS_CERT_FILE: certFiles.cert,
          SENTINEL_TLS_KEY_FILE: certFiles.key,
          SENTINEL_DATA_DIR: join(pki.dir, 'agent-cam-3'),
        }),
      );
      const pushed = await httpsPush(hub.url, ca, hub.adminToken, fastModel(), {
        name: 'tls-model',
        version: '1.0.0',
        model_type: 'object-detection',
        framework: 'onnx',
        stage: 'production',
      });
      assert.equal(pushed.status, 201, pushed.body.toString());
      const model = pushed.json<{ id: string; sha256: string }>();
      const pinned = await call('PUT', '/api/v1/groups/yard/desired', { model_id: model.id });
      assert.equal(pinned.status, 200, pinned.body.toString());
      for (const agent of agents) {
        await eventually(`${agent.apiUrl} to serve the model`, async () => {
          const status = (await (await fetch(`${agent.apiUrl}/v1/status`)).json()) as {
            active_slot: 'blue' | 'green' | null;
            slots: Record<string, { sha256: string } | null>;
            errors: string[];
          };
          const active = status.active_slot ? status.slots[status.active_slot] : null;
          return active?.sha256 === model.sha256 ? true : undefined;
        });
      }
    } finally {
      await Promise.all(agents.map((agent) => stopProcess(agent.child)));
    }
  });
});

describe('TLS configuration', () => {
  const pki = new TestPki();
  after(() => pki.remove());

  const problemsOf = (env: Record<string, string>): string => {
    try {
      loadConfig(env);
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message;
    }
    return '';
  };

  it('refuses unreadable files and a key that does not match the certificate, with one line', () => {
    const ca = pki.ca('config-ca');
    const one = pki.server(ca, 'one');
    const two = pki.server(ca, 'two');
    assert.equal(problemsOf({ TLS_CERT_FILE: one.cert, TLS_KEY_FILE: one.key }), '');
    assert.match(
      problemsOf({ TLS_CERT_FILE: one.cert, TLS_KEY_FILE: two.key }),
      /TLS_CERT_FILE .*unusable: .*(key values mismatch|KEY_VALUES_MISMATCH)/i,
    );
    assert.match(
      problemsOf({ TLS_CERT_FILE: join(pki.dir, 'missing.crt'), TLS_KEY_FILE: one.key }),
      /TLS_CERT_FILE certificate .*missing\.crt cannot be read \(ENOENT\)/,
    );
    assert.match(
      problemsOf({
        TLS_CERT_FILE: one.cert,
        TLS_KEY_FILE: one.key,
        TLS_CLIENT_CA_FILE: join(pki.dir, 'nope.crt'),
      }),
      /client CA .*nope\.crt cannot be read/,
    );
    const garbage = join(pki.dir, 'garbage-ca.pem');
    writeFileSync(garbage, 'not a certificate\n');
    assert.match(
      problemsOf({ TLS_CERT_FILE: one.cert, TLS_KEY_FILE: one.key, TLS_CLIENT_CA_FILE: garbage }),
      /client CA .*garbage-ca\.pem unusable: no PEM certificate in it/,
    );
  });
});
