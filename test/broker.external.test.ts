import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { api, spawnHub, type HubProcess } from './support/hub.js';
import {
  createDevice,
  createGroup,
  pinGroup,
  type DeviceCredentialsResponse,
} from './support/fleet.js';
import { startMosquitto, mosquittoPasswdLine, type MosquittoServer } from './support/mosquitto.js';
import { fastModel } from './support/onnx-models.js';
import { runProcess } from './support/process.js';
import { json, pushModel } from './support/push.js';

const hasMosquitto = spawnSync('mosquitto', ['-h']).error === undefined;
const HUB_USER = 'sentinel-hub';
const HUB_PASSWORD = 'hub-password-for-the-external-broker';

describe(
  'external broker mode (a real Mosquitto)',
  { skip: hasMosquitto ? false : 'mosquitto is not installed' },
  () => {
    let mosquitto: MosquittoServer;
    let hub: HubProcess;
    let cam: DeviceCredentialsResponse;
    const hubOnly = `${mosquittoPasswdLine(HUB_USER, HUB_PASSWORD)}\n`;

    before(async () => {
      mosquitto = await startMosquitto(
        hubOnly,
        `user ${HUB_USER}\ntopic readwrite sentinel/v1/#\n`,
      );
      hub = await spawnHub({
        MQTT_URL: `mqtt://127.0.0.1:${mosquitto.port}`,
        MQTT_USERNAME: HUB_USER,
        MQTT_PASSWORD: HUB_PASSWORD,
      });
      await createGroup(hub, 'yard');
      await createGroup(hub, 'depot');
      cam = await createDevice(hub, 'yard-cam', 'yard');
      await createDevice(hub, 'depot-cam', 'depot');
      // What an operator does after fleet changes: export both files from the hub and reload Mosquitto.
      const passwd = await (await api(hub)('/api/v1/broker/mosquitto-passwd')).text();
      const acl = await (
        await api(hub)(`/api/v1/broker/mosquitto-acl?hub_user=${HUB_USER}`)
      ).text();
      await mosquitto.reload(hubOnly + passwd, acl);
    });
    after(async () => {
      await hub?.stop();
      await mosquitto?.stop();
    });

    const sub = (topic: string, extra: string[] = []) =>
      runProcess('mosquitto_sub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(mosquitto.port),
        '-i',
        'yard-cam',
        '-u',
        'yard-cam',
        '-P',
        cam.credentials.password,
        '-t',
        topic,
        '-C',
        '1',
        ...extra,
      ]);

    it('runs no broker of its own', () => {
      assert.equal(hub.mqtt, null);
    });

    it("publishes a group's desired state through Mosquitto, retained, to a device logging in with the exported password file", async () => {
      const modelId = (
        await json<{ id: string }>(
          await pushModel(hub, fastModel(), { name: 'yard-model', version: '1.0.0' }),
        )
      ).id;
      await pinGroup(hub, 'yard', modelId);
      const result = await sub('sentinel/v1/groups/yard/desired', ['-W', '5']);
      assert.equal(result.code, 0, result.stderr);
      assert.equal((JSON.parse(result.stdout) as { model: { id: string } }).model.id, modelId);
    });

    it("keeps a device out of another group's topic through the exported ACL (Mosquitto filters, it does not refuse)", async () => {
      const modelId = (
        await json<{ id: string }>(
          await pushModel(hub, fastModel(), { name: 'depot-model', version: '1.0.0' }),
        )
      ).id;
      await pinGroup(hub, 'depot', modelId);
      const result = await sub('sentinel/v1/groups/depot/desired', ['-W', '2']);
      assert.equal(result.stdout, '');
    });

    it('records the state a device publishes through Mosquitto', async () => {
      const state = {
        device_id: 'yard-cam',
        online: true,
        ts: new Date().toISOString(),
        agent_version: '9.9.9',
      };
      const pub = await runProcess('mosquitto_pub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(mosquitto.port),
        '-i',
        'yard-cam',
        '-u',
        'yard-cam',
        '-P',
        cam.credentials.password,
        '-t',
        'sentinel/v1/devices/yard-cam/state',
        '-q',
        '1',
        '-r',
        '-m',
        JSON.stringify(state),
      ]);
      assert.equal(pub.code, 0, pub.stderr);
      let device: { online?: boolean; agent_version?: string } = {};
      for (let i = 0; i < 50 && device.agent_version !== '9.9.9'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        device = await json(await api(hub)('/api/v1/devices/yard-cam'));
      }
      assert.equal(device.online, true);
      assert.equal(device.agent_version, '9.9.9');
    });

    it('refuses a wrong password (Mosquitto checks the hash the hub exported)', async () => {
      const result = await runProcess('mosquitto_sub', [
        '-h',
        '127.0.0.1',
        '-p',
        String(mosquitto.port),
        '-i',
        'yard-cam',
        '-u',
        'yard-cam',
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
      assert.match(result.stderr, /not authorised|bad user name or password/i);
    });
  },
);
