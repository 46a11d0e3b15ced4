// Several named models per device (docs/protocol.md 6.6), hub side, with a real hub process, real
// MQTT (mqtt.js clients as observer and as the device) and real PostgreSQL-compatible storage: two
// deployments of different names run at once in one group, each on its own retained topic; the same
// name twice is a 409; a rollback of one leaves the other's retained state as it was; a named state
// report progresses its deployment; the named states come back after a hub restart; deleting a
// device or group clears its named retained topics.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import {
  deviceDesiredTopic,
  deviceStateTopic,
  groupDesiredTopic,
  type DesiredState,
  type DeviceState,
} from '@sentinel/broker';
import {
  deploy,
  deploymentAction,
  getDeployment,
  waitForDeployment,
} from './support/deployments.js';
import {
  connectDevice,
  createDevice,
  createGroup,
  type DeviceCredentialsResponse,
} from './support/fleet.js';
import { api, spawnHub, type HubProcess } from './support/hub.js';
import { freePort } from './support/mosquitto.js';
import { fastModel, fastTwinModel, slowModel, slowTwinModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';

const DEFAULT_TOPIC = groupDesiredTopic('yard');
const CLASSIFIER_TOPIC = groupDesiredTopic('yard', 'classifier');

/** The retained messages of the hub's broker as an observer sees them: the last payload per topic. */
class Retained {
  readonly last = new Map<string, string>();
  private constructor(private readonly client: MqttClient) {}

  static async connect(hub: HubProcess): Promise<Retained> {
    const client = await connectAsync(`mqtt://127.0.0.1:${hub.mqtt!.port}`, {
      username: 'observer',
      password: hub.adminToken,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    const retained = new Retained(client);
    client.on('message', (topic, payload) => retained.last.set(topic, payload.toString()));
    await client.subscribeAsync(
      ['sentinel/v1/groups/#', 'sentinel/v1/devices/+/desired', 'sentinel/v1/devices/+/models/#'],
      { qos: 1 },
    );
    return retained;
  }

  /** Waits until the topic's last payload satisfies `predicate` (parsed; '' is null). */
  async waitFor(
    topic: string,
    predicate: (state: DesiredState | null) => boolean,
    timeoutMs = 15_000,
  ): Promise<DesiredState | null> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const payload = this.last.get(topic);
      if (payload !== undefined) {
        const state = payload === '' ? null : (JSON.parse(payload) as DesiredState);
        if (predicate(state)) return state;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${topic}: timed out, last ${this.last.get(topic)}`);
  }

  close(): Promise<void> {
    return this.client.endAsync();
  }
}

describe('deployments of named models (serve_as)', () => {
  let hub: HubProcess;
  let dir: string;
  let env: Record<string, string>;
  let observer: Retained;
  let device: DeviceCredentialsResponse;
  const models: Record<string, { id: string; version: string }> = {};
  let detectorDeployment: string;
  let classifierDeployment: string;

  const request = (path: string, init: RequestInit = {}) =>
    api(hub)(path, {
      ...init,
      headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'named-models-'));
    env = {
      DATA_DIR: join(dir, 'hub'),
      PORT: String(await freePort()),
      MQTT_PORT: String(await freePort()),
      MQTT_WS_PORT: '0',
      ADMIN_TOKEN: `named-admin-${process.pid}-0123456789`,
      ROLLOUT_INTERVAL_MS: '100',
      LOG_LEVEL: 'warn',
    };
    hub = await spawnHub(env);
    observer = await Retained.connect(hub);
    await createGroup(hub, 'yard');
    device = await createDevice(hub, 'cam-n1', 'yard');
    const push = async (key: string, file: Buffer, name: string, version: string) => {
      const response = await pushModel(hub, file, { name, version });
      assert.equal(response.status, 201, await response.clone().text());
      models[key] = { id: (await json<{ id: string }>(response)).id, version };
    };
    await push('det1', fastModel(), 'det', '1.0.0');
    await push('det2', slowModel(), 'det', '2.0.0');
    await push('cls1', fastTwinModel(), 'cls', '1.0.0');
    await push('cls2', slowTwinModel(), 'cls', '2.0.0');
  });

  after(async () => {
    await observer?.close();
    await hub?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pins per name: a named pin has its own topic and leaves the default one alone', async () => {
    const pinDefault = await request('/api/v1/groups/yard/desired', {
      method: 'PUT',
      body: JSON.stringify({ model_id: models.det1!.id }),
    });
    assert.equal(pinDefault.status, 200, await pinDefault.clone().text());
    const pinNamed = await request('/api/v1/groups/yard/desired?serve_as=classifier', {
      method: 'PUT',
      body: JSON.stringify({ model_id: models.cls1!.id }),
    });
    assert.equal(pinNamed.status, 200, await pinNamed.clone().text());
    const named = await observer.waitFor(CLASSIFIER_TOPIC, (s) => s?.model?.id === models.cls1!.id);
    assert.equal(named?.seq, 1, 'a named state has its own seq');
    const unnamed = await observer.waitFor(DEFAULT_TOPIC, (s) => s?.model?.id === models.det1!.id);
    assert.equal(unnamed?.seq, 1);
    const read = await json<DesiredState>(
      await request('/api/v1/groups/yard/desired?serve_as=classifier'),
    );
    assert.equal(read.model?.id, models.cls1!.id);
    const bad = await request('/api/v1/groups/yard/desired?serve_as=Not%20A%20Name');
    assert.equal(bad.status, 400);
  });

  it('a detector and a classifier deployment run at once in one group; the same name twice is a 409', async () => {
    const detector = await deploy(hub, {
      model_id: models.det2!.id,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'yard',
      rules: { enabled: false },
    });
    detectorDeployment = detector.id;
    assert.equal(detector.serve_as, 'default');
    const classifier = await deploy(hub, {
      model_id: models.cls2!.id,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'yard',
      serve_as: 'classifier',
      rules: { enabled: false },
    });
    classifierDeployment = classifier.id;
    assert.equal(classifier.serve_as, 'classifier');
    assert.equal(classifier.status, 'staging');
    assert.equal(
      (classifier as unknown as { groups: { previous_model_id: string }[] }).groups[0]!
        .previous_model_id,
      models.cls1!.id,
      "the previous model is the group's classifier, not its default model",
    );

    // Each on its own retained topic, with its own fallback.
    const named = await observer.waitFor(
      CLASSIFIER_TOPIC,
      (s) => s?.deployment_id === classifier.id,
    );
    assert.equal(named?.model?.id, models.cls2!.id);
    assert.equal(named?.previous?.id, models.cls1!.id);
    const unnamed = await observer.waitFor(DEFAULT_TOPIC, (s) => s?.deployment_id === detector.id);
    assert.equal(unnamed?.model?.id, models.det2!.id);
    assert.equal(unnamed?.previous?.id, models.det1!.id);

    const again = await request('/api/v1/deployments', {
      method: 'POST',
      body: JSON.stringify({
        model_id: models.cls2!.id,
        environment: 'production',
        deployment_type: 'blue-green',
        target: 'yard',
        serve_as: 'classifier',
      }),
    });
    assert.equal(again.status, 409);
    const body = await json<{ message: string }>(again);
    assert.match(body.message, /active deployment of model classifier/);

    const listed = await json<{ items: { id: string; serve_as: string }[] }>(
      await request('/api/v1/deployments?serve_as=classifier'),
    );
    assert.deepEqual(
      listed.items.map((d) => [d.id, d.serve_as]),
      [[classifier.id, 'classifier']],
    );
    const created = (await getDeployment(hub, classifier.id)).events.find(
      (e) => e.type === 'created',
    );
    assert.equal(created?.figures.serve_as, 'classifier');
  });

  it("a device's report of models.classifier.deployment progresses that deployment", async () => {
    const client = await connectDevice(`mqtt://127.0.0.1:${hub.mqtt!.port}`, device);
    try {
      const report = (phase: 'staged' | 'active'): DeviceState => ({
        device_id: 'cam-n1',
        online: true,
        ts: new Date().toISOString(),
        active_slot: 'blue',
        slots: { blue: null, green: null },
        deployment: null,
        models: {
          classifier: {
            active_slot: phase === 'active' ? 'green' : 'blue',
            slots: { blue: null, green: null },
            deployment: { deployment_id: classifierDeployment, seq: 2, phase },
          },
        },
      });
      await client.publishAsync(deviceStateTopic('cam-n1'), JSON.stringify(report('staged')), {
        qos: 1,
        retain: true,
      });
      // Every (online) device staged: the blue/green cuts over.
      const cut = await waitForDeployment(
        hub,
        classifierDeployment,
        (d) => d.status === 'in_progress',
      );
      assert.equal(cut.progress.phases.staged, 1);
      await observer.waitFor(
        CLASSIFIER_TOPIC,
        (s) => s?.deployment_id === classifierDeployment && s.activate === 'new',
      );
      await client.publishAsync(deviceStateTopic('cam-n1'), JSON.stringify(report('active')), {
        qos: 1,
        retain: true,
      });
      await waitForDeployment(hub, classifierDeployment, (d) => d.status === 'succeeded');
      // The detector's deployment heard nothing of it.
      const detector = await getDeployment(hub, detectorDeployment);
      assert.equal(detector.status, 'staging');
      assert.equal(detector.progress.phases.staged ?? 0, 0);

      // The device view lists the named model from the report.
      const shown = await json<{ models: { name: string; active_slot: string | null }[] }>(
        await request('/api/v1/devices/cam-n1'),
      );
      assert.deepEqual(
        shown.models.map((m) => [m.name, m.active_slot]),
        [['classifier', 'green']],
      );
    } finally {
      await client.endAsync();
    }
  });

  it("a rollback of the classifier leaves the detector's retained desired state as it was", async () => {
    const before = observer.last.get(DEFAULT_TOPIC);
    const response = await deploymentAction(hub, classifierDeployment, 'rollback');
    assert.equal(response.status, 200, await response.clone().text());
    const back = await observer.waitFor(
      CLASSIFIER_TOPIC,
      (s) => s?.deployment_id === classifierDeployment && s.activate === 'previous',
    );
    assert.equal(back?.previous?.id, models.cls1!.id);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(observer.last.get(DEFAULT_TOPIC), before, 'the default topic is untouched');
    const detector = await getDeployment(hub, detectorDeployment);
    assert.equal(detector.status, 'staging');
  });

  it('the named desired states are published again by a restarted hub', async () => {
    const before = observer.last.get(CLASSIFIER_TOPIC);
    assert.ok(before);
    const pin = await request('/api/v1/devices/cam-n1/desired?serve_as=classifier', {
      method: 'PUT',
      body: JSON.stringify({ model_id: models.cls2!.id }),
    });
    assert.equal(pin.status, 200, await pin.clone().text());
    const override = await observer.waitFor(
      deviceDesiredTopic('cam-n1', 'classifier'),
      (s) => s?.model?.id === models.cls2!.id,
    );
    await observer.close();
    // The embedded broker keeps its retained messages in memory: after -9 only the hub's database
    // knows them, and the new hub publishes them again at its start.
    await hub.kill();
    hub = await spawnHub(env);
    observer = await Retained.connect(hub);
    assert.deepEqual(
      await observer.waitFor(CLASSIFIER_TOPIC, () => true),
      JSON.parse(before) as DesiredState,
    );
    const again = await observer.waitFor(deviceDesiredTopic('cam-n1', 'classifier'), () => true);
    assert.equal(again?.seq, override?.seq);
    assert.ok(
      await observer.waitFor(DEFAULT_TOPIC, (s) => s?.deployment_id === detectorDeployment),
    );
  });

  it("deleting the device, then the group, clears their named models' retained topics", async () => {
    const deviceTopic = deviceDesiredTopic('cam-n1', 'classifier');
    await observer.waitFor(deviceTopic, (s) => s !== null);
    assert.equal((await request('/api/v1/devices/cam-n1', { method: 'DELETE' })).status, 204);
    await observer.waitFor(deviceTopic, (s) => s === null);

    await observer.waitFor(CLASSIFIER_TOPIC, (s) => s !== null);
    const deleted = await request('/api/v1/groups/yard', { method: 'DELETE' });
    assert.ok(deleted.status < 300, await deleted.clone().text());
    await observer.waitFor(CLASSIFIER_TOPIC, (s) => s === null);
    await observer.waitFor(DEFAULT_TOPIC, (s) => s === null);

    // And nothing is left on the broker for a new subscriber.
    const fresh = await Retained.connect(hub);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(fresh.last.get(CLASSIFIER_TOPIC), undefined);
    assert.equal(fresh.last.get(deviceTopic), undefined);
    await fresh.close();
  });
});
