// Spoofed telemetry: a device may speak only for deployments of its own group and for the model it
// reported in the slot it names. Anything else would be counted in another fleet's verdict (a device
// in another group could force a rollback with bad figures, or hide a real degradation with good ones).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deviceStateTopic, deviceTelemetryTopic } from '@sentinel/broker';
import type { MqttClient } from 'mqtt';
import { TelemetryService } from '../src/telemetry/telemetry.service.js';
import { TELEMETRY_STORE, type TelemetryStore } from '../src/telemetry/telemetry-store.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { connectDevice, createDevice, createGroup, pinGroup } from './support/fleet.js';
import { deploy } from './support/deployments.js';
import { fastModel, slowModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';
import { telemetryWindow } from './support/telemetry-window.js';

type Model = { id: string; version: string; sha256: string };

describe('telemetry a device may not send', () => {
  let hub: InProcessHub;
  let cameraA: MqttClient;
  let cameraB: MqttClient;
  let v1: Model;
  let v2: Model;
  let deploymentId: string;
  const start = Date.now() - 60_000;

  const window = (device: string, seconds: number, extra: Record<string, unknown>) =>
    telemetryWindow(device, start, seconds, extra);

  before(async () => {
    hub = await startHub();
    await createGroup(hub, 'line-a');
    await createGroup(hub, 'line-b');
    const a = await createDevice(hub, 'cam-a', 'line-a');
    const b = await createDevice(hub, 'cam-b', 'line-b');
    v1 = await json<Model>(await pushModel(hub, fastModel(), { name: 'det', version: '1.0.0' }));
    v2 = await json<Model>(
      await pushModel(hub, slowModel({ hidden: 8, layers: 1 }), { name: 'det', version: '2.0.0' }),
    );
    await pinGroup(hub, 'line-a', v1.id);
    deploymentId = (
      await deploy(hub, {
        model_id: v2.id,
        environment: 'production',
        deployment_type: 'blue-green',
        target: 'line-a',
        rules: { enabled: false },
      })
    ).id;
    const url = `mqtt://127.0.0.1:${hub.mqtt!.port}`;
    cameraA = await connectDevice(url, a);
    cameraB = await connectDevice(url, b);
    // cam-a holds v1 in blue and v2 in green, serving green.
    const slot = (m: Model) => ({
      model_id: m.id,
      version: m.version,
      sha256: m.sha256,
      loaded: true,
    });
    await cameraA.publishAsync(
      deviceStateTopic('cam-a'),
      JSON.stringify({
        device_id: 'cam-a',
        online: true,
        ts: new Date().toISOString(),
        active_slot: 'green',
        slots: { blue: slot(v1), green: slot(v2) },
      }),
      { qos: 1, retain: true },
    );
    for (let i = 0; i < 100; i++) {
      const device = await json<{ reported: { slots?: unknown } | null }>(
        await api(hub)('/api/v1/devices/cam-a'),
      );
      if (device.reported?.slots) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  after(async () => {
    await cameraA?.endAsync();
    await cameraB?.endAsync();
    await hub?.stop();
  });

  it('drops windows for another group’s deployment and for a model not in the named slot', async () => {
    const named = {
      deployment_id: deploymentId,
      model_id: v2.id,
      model_version: '2.0.0',
      slot: 'green',
    };
    // cam-b (line-b) claims to serve line-a's new version, badly.
    await cameraB.publishAsync(
      deviceTelemetryTopic('cam-b'),
      window('cam-b', 10, { ...named, fps: 1 }),
      {
        qos: 1,
      },
    );
    // cam-a names v1 in its green slot, which holds v2.
    await cameraA.publishAsync(
      deviceTelemetryTopic('cam-a'),
      window('cam-a', 20, { ...named, model_id: v1.id, model_version: '1.0.0' }),
      { qos: 1 },
    );
    // cam-a's honest window.
    await cameraA.publishAsync(deviceTelemetryTopic('cam-a'), window('cam-a', 30, named), {
      qos: 1,
    });

    const store = hub.app.get<TelemetryStore>(TELEMETRY_STORE);
    const query = { deployment: deploymentId, from: new Date(start), to: new Date(start + 60_000) };
    const metrics = async () => (await (await fetch(`${hub.url}/metrics`)).text()) as string;
    for (let i = 0; i < 100; i++) {
      await hub.app.get(TelemetryService).flush();
      const text = await metrics();
      if (/reason="not_serving"} 1/.test(text) && /reason="foreign_deployment"} 1/.test(text))
        break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await hub.app.get(TelemetryService).flush();
    const rows = await store.aggregateByDevice(query);
    assert.deepEqual(
      rows.map((r) => [r.device, r.samples]),
      [['cam-a', 1]],
      'only cam-a’s honest window counts for the deployment',
    );
    const text = await metrics();
    assert.match(text, /sentinel_telemetry_dropped_total\{reason="foreign_deployment"} 1/);
    assert.match(text, /sentinel_telemetry_dropped_total\{reason="not_serving"} 1/);
  });

  it('still takes windows that name no deployment from any device', async () => {
    await cameraB.publishAsync(
      deviceTelemetryTopic('cam-b'),
      window('cam-b', 40, { deployment_id: null, model_id: null, model_version: null, slot: null }),
      { qos: 1 },
    );
    const store = hub.app.get<TelemetryStore>(TELEMETRY_STORE);
    const query = { deployment: 'none', from: new Date(start), to: new Date(start + 60_000) };
    let rows = await store.aggregateByDevice(query);
    for (let i = 0; i < 100 && rows.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await hub.app.get(TelemetryService).flush();
      rows = await store.aggregateByDevice(query);
    }
    assert.deepEqual(
      rows.map((r) => r.device),
      ['cam-b'],
    );
  });
});
