import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BrokerService } from '../src/broker/broker.service.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import {
  connectDevice,
  createDevice,
  createGroup,
  nextJsonMessage,
  pinGroup,
  type DeviceCredentialsResponse,
} from './support/fleet.js';
import { fastModel } from './support/onnx-models.js';
import { runProcess } from './support/process.js';
import { json, pushModel } from './support/push.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** mosquitto_sub/mosquitto_pub (Debian mosquitto-clients) as a device: real third-party clients. */
function mosquitto(
  tool: 'mosquitto_sub' | 'mosquitto_pub',
  hub: InProcessHub,
  device: DeviceCredentialsResponse,
  args: string[],
) {
  const { username, password, client_id } = device.credentials;
  return runProcess(tool, [
    '-h',
    '127.0.0.1',
    '-p',
    String(hub.mqtt!.port),
    '-V',
    'mqttv311',
    '-i',
    client_id,
    '-u',
    username,
    '-P',
    password,
    ...args,
  ]);
}

describe('embedded broker with real MQTT clients', () => {
  let hub: InProcessHub;
  let cam1: DeviceCredentialsResponse;
  let cam2: DeviceCredentialsResponse;
  let modelId: string;

  before(async () => {
    hub = await startHub();
    await createGroup(hub, 'lobby');
    await createGroup(hub, 'dock');
    cam1 = await createDevice(hub, 'cam-1', 'lobby');
    cam2 = await createDevice(hub, 'cam-2', 'dock');
    modelId = (
      await json<Json>(await pushModel(hub, fastModel(), { name: 'detector', version: '1.0.0' }))
    ).id;
    await pinGroup(hub, 'lobby', modelId);
  });
  after(() => hub?.stop());

  it("gives a device its group's retained desired state (mosquitto_sub)", async () => {
    const result = await mosquitto('mosquitto_sub', hub, cam1, [
      '-t',
      'sentinel/v1/groups/lobby/desired',
      '-C',
      '1',
      '-W',
      '5',
      '-q',
      '1',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const desired = JSON.parse(result.stdout) as Json;
    assert.equal(desired.model.id, modelId);
    assert.equal(desired.strategy, 'pinned');
    assert.equal(desired.seq, 1);
    assert.match(desired.model.url, new RegExp(`/api/v1/models/${modelId}/artifact$`));
  });

  it('refuses a wrong password at CONNECT (bad user name or password)', async () => {
    const result = await runProcess('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(hub.mqtt!.port),
      '-V',
      'mqttv311',
      '-i',
      'cam-1',
      '-u',
      'cam-1',
      '-P',
      'wrong',
      '-t',
      'x',
      '-C',
      '1',
      '-W',
      '3',
    ]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /bad user name or password/i);
  });

  it("refuses a client id that is not the device's own (CONNACK 2, identifier rejected)", async () => {
    const result = await runProcess('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(hub.mqtt!.port),
      '-V',
      'mqttv311',
      '-i',
      'cam-2',
      '-u',
      'cam-1',
      '-P',
      cam1.credentials.password,
      '-t',
      'x',
      '-C',
      '1',
      '-W',
      '3',
    ]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /identifier rejected/i);
  });

  it("denies a device another group's topic and the whole tree", async () => {
    for (const topic of [
      'sentinel/v1/groups/dock/desired',
      'sentinel/v1/#',
      'sentinel/v1/groups/+/desired',
    ]) {
      // Aedes grants 0x80 (failure) and keeps the connection; mosquitto_sub says so and receives nothing.
      const result = await mosquitto('mosquitto_sub', hub, cam1, [
        '-t',
        topic,
        '-C',
        '1',
        '-W',
        '3',
      ]);
      assert.match(result.stderr, /All subscription requests were denied/, topic);
      assert.equal(result.stdout, '', topic);
    }
  });

  it("disconnects a device that publishes on another device's topic", async () => {
    const result = await mosquitto('mosquitto_pub', hub, cam1, [
      '-t',
      'sentinel/v1/devices/cam-2/state',
      '-q',
      '1',
      '-m',
      '{}',
    ]);
    assert.notEqual(result.code, 0);
  });

  it('records what a device reports on its state topic', async () => {
    const state = {
      device_id: 'cam-1',
      online: true,
      ts: new Date().toISOString(),
      agent_version: '0.1.0',
      active_slot: 'blue',
    };
    const result = await mosquitto('mosquitto_pub', hub, cam1, [
      '-t',
      'sentinel/v1/devices/cam-1/state',
      '-q',
      '1',
      '-r',
      '-m',
      JSON.stringify(state),
    ]);
    assert.equal(result.code, 0, result.stderr);
    await hub.app.get(BrokerService).flushStates();
    let device: Json = {};
    for (let i = 0; i < 50 && !device.online; i++) {
      device = await json(await api(hub)('/api/v1/devices/cam-1'));
      if (!device.online) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(device.online, true);
    assert.equal(device.agent_version, '0.1.0');
    assert.equal(device.reported.active_slot, 'blue');
  });

  it('drops malformed and schema-invalid state messages, counts them, and keeps the connection', async () => {
    const client = await connectDevice(`mqtt://127.0.0.1:${hub.mqtt!.port}`, cam2);
    try {
      await client.publishAsync('sentinel/v1/devices/cam-2/state', 'not json', { qos: 1 });
      await client.publishAsync(
        'sentinel/v1/devices/cam-2/state',
        JSON.stringify({ device_id: 'cam-2', online: 'yes' }),
        { qos: 1 },
      );
      assert.equal(client.connected, true);
      const metrics = await (await fetch(`${hub.url}/metrics`)).text();
      assert.match(
        metrics,
        /sentinel_mqtt_messages_dropped_total\{kind="device_state",reason="schema"\} 2/,
      );
    } finally {
      await client.endAsync();
    }
  });

  it('serves mqtt.js over TCP and over WebSocket', async () => {
    for (const url of [
      `mqtt://127.0.0.1:${hub.mqtt!.port}`,
      `ws://127.0.0.1:${hub.mqtt!.wsPort}`,
    ]) {
      const client = await connectDevice(url, cam1);
      try {
        const received = nextJsonMessage<Json>(client);
        await client.subscribeAsync('sentinel/v1/groups/lobby/desired', { qos: 1 });
        assert.equal((await received).model.id, modelId, url);
      } finally {
        await client.endAsync();
      }
    }
  });

  it('ends the live session of a deleted device at once', async () => {
    const client = await connectDevice(`mqtt://127.0.0.1:${hub.mqtt!.port}`, cam2);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    assert.equal((await api(hub)('/api/v1/devices/cam-2', { method: 'DELETE' })).status, 204);
    await closed;
    await client.endAsync(true);
  });
});
