// MQTT sessions against a real hub with real mqtt.js clients: the CONNACK codes of
// docs/protocol.md, observers that can neither lock a device out nor outlive their token,
// per-device telemetry rate limits, and the counts in /metrics.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deviceStateTopic, deviceTelemetryTopic } from '@sentinel/broker';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { createDevice, createGroup, type DeviceCredentialsResponse } from './support/fleet.js';

const WAIT_MS = 10_000;

async function eventually(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < WAIT_MS / 25; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function metric(hub: InProcessHub, series: string): Promise<number> {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function viewerToken(
  hub: InProcessHub,
  name: string,
): Promise<{ id: string; token: string }> {
  const response = await api(hub)('/api/v1/tokens', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, role: 'viewer' }),
  });
  assert.equal(response.status, 201);
  return (await response.json()) as { id: string; token: string };
}

describe('MQTT sessions on a real hub', () => {
  let hub: InProcessHub;
  let url: string;
  let cam: DeviceCredentialsResponse;
  const open: MqttClient[] = [];

  const login = async (options: IClientOptions) => {
    const client = await connectAsync(
      url,
      { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: WAIT_MS, ...options },
      false,
    );
    open.push(client);
    return client;
  };
  const asDevice = (device: DeviceCredentialsResponse, options: IClientOptions = {}) =>
    login({
      clientId: device.credentials.client_id,
      username: device.credentials.username,
      password: device.credentials.password,
      ...options,
    });
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => assert.fail('the connection was accepted'),
      (error: { code?: number }) => error.code,
    );

  before(async () => {
    hub = await startHub({ MQTT_TELEMETRY_RATE: '1', MQTT_TELEMETRY_BURST: '5' });
    url = `mqtt://127.0.0.1:${hub.mqtt!.port}`;
    await createGroup(hub, 'lobby');
    cam = await createDevice(hub, 'cam-s1', 'lobby');
  });
  after(async () => {
    await Promise.all(open.map((c) => c.endAsync(true)));
    await hub?.stop();
  });

  it('answers the CONNACK codes of docs/protocol.md and counts each refusal by reason', async () => {
    assert.equal(await refusal(asDevice(cam, { password: 'wrong' })), 4);
    assert.equal(await refusal(asDevice(cam, { clientId: 'cam-other' })), 2);
    assert.equal(await refusal(asDevice(cam, { protocolVersion: 3 })), 1);
    assert.equal(await refusal(asDevice(cam, { protocolVersion: 5 })), 1);
    assert.equal(
      await refusal(login({ username: 'observer', password: 'not-a-token', clientId: 'x' })),
      4,
    );
    const reasons = {
      bad_credentials: 2,
      client_id: 1,
      protocol_version: 2,
    };
    for (const [reason, count] of Object.entries(reasons)) {
      assert.equal(
        await metric(hub, `sentinel_mqtt_auth_failures_total{reason="${reason}"}`),
        count,
        reason,
      );
    }
  });

  it("does not let an observer lock a device out by using the device's id as client id", async () => {
    const { token } = await viewerToken(hub, 'dashboard');
    const observer = await login({ username: 'observer', password: token, clientId: 'cam-s1' });
    const device = await asDevice(cam);
    assert.equal(device.connected, true);
    assert.equal(observer.connected, true);
    await device.endAsync();
    await observer.endAsync();
  });

  it('ends an observer session when its token is deleted, and only that one', async () => {
    const revoked = await viewerToken(hub, 'revoked');
    const kept = await viewerToken(hub, 'kept');
    const doomed = await login({ username: 'observer', password: revoked.token, clientId: 'a' });
    const stays = await login({ username: 'observer', password: kept.token, clientId: 'b' });
    await doomed.subscribeAsync('sentinel/v1/#');
    const closed = new Promise<void>((resolve) => doomed.once('close', () => resolve()));
    const deleted = await api(hub)(`/api/v1/tokens/${revoked.id}`, { method: 'DELETE' });
    assert.equal(deleted.status, 204);
    await closed;
    assert.equal(stays.connected, true);
    assert.equal(
      await refusal(login({ username: 'observer', password: revoked.token, clientId: 'a' })),
      4,
    );
    await stays.endAsync();
  });

  it('drops telemetry over the per-device rate limit, counts the drops, keeps the device connected', async () => {
    const device = await asDevice(cam);
    const before = await metric(hub, 'sentinel_telemetry_received_total');
    const invalidBefore = await metric(hub, 'sentinel_telemetry_dropped_total{reason="invalid"}');
    const sent = 100;
    const started = Date.now();
    for (let i = 0; i < sent; i++) {
      // Schema-invalid on purpose: what matters here is whether it reaches the hub at all.
      await device.publishAsync(deviceTelemetryTopic('cam-s1'), `{"n":${i}}`, { qos: 1 });
    }
    const elapsedS = (Date.now() - started) / 1000;
    const limited = () =>
      metric(hub, 'sentinel_mqtt_denied_total{action="publish",reason="rate_limited"}');
    const reached = async () =>
      (await metric(hub, 'sentinel_telemetry_dropped_total{reason="invalid"}')) - invalidBefore;
    await eventually(
      'every message delivered or counted',
      async () => (await reached()) + (await limited()) === sent,
    );
    const passed = await reached();
    assert.ok(passed >= 5 && passed <= 5 + Math.ceil(elapsedS) + 1, `passed ${passed}`);
    assert.equal(
      await metric(hub, 'sentinel_telemetry_dropped_total{reason="rate_limited"}'),
      sent - passed,
    );
    assert.equal(await metric(hub, 'sentinel_telemetry_received_total'), before);
    // The state topic is not limited.
    await device.publishAsync(
      deviceStateTopic('cam-s1'),
      JSON.stringify({ device_id: 'cam-s1', online: true, ts: new Date().toISOString() }),
      { qos: 1 },
    );
    assert.equal(device.connected, true);
    await device.endAsync();
  });

  it('counts connected clients from the live sessions: never negative after a reconnect storm', async () => {
    const storm = await Promise.allSettled(Array.from({ length: 60 }, () => asDevice(cam)));
    assert.ok(storm.some((s) => s.status === 'fulfilled'));
    await Promise.all(open.splice(0).map((c) => c.endAsync(true)));
    await eventually(
      'no session left',
      async () => (await metric(hub, 'sentinel_mqtt_clients')) === 0,
    );
    const device = await asDevice(cam);
    await eventually('one session', async () => (await metric(hub, 'sentinel_mqtt_clients')) === 1);
    await device.endAsync();
  });
});
