// Shadow telemetry over MQTT into the hub's store: a window's shadow block (the candidate in the
// standby slot against the serving model) is stored with it and reaches aggregateShadow; a block
// for a model the device does not hold on standby, or for another deployment, gets the whole window
// refused like a window naming a model it does not serve (it would be counted in the verdict).
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

describe('shadow telemetry intake', () => {
  let hub: InProcessHub;
  let camera: MqttClient;
  let v1: Model;
  let v2: Model;
  let other: Model;
  let deploymentId: string;
  const start = Date.now() - 60_000;

  /** A window of cam-a serving v1 from blue in the deployment, `seconds` after start. */
  const window = (seconds: number, extra: Record<string, unknown> = {}) =>
    telemetryWindow('cam-a', start, seconds, {
      deployment_id: deploymentId,
      model_id: v1.id,
      model_version: '1.0.0',
      slot: 'blue',
      ...extra,
    });
  /** The shadow block of candidate `m` (as the agent sends it). */
  const shadow = (m: Model, over: Record<string, unknown> = {}) => ({
    deployment_id: deploymentId,
    model_id: m.id,
    model_version: m.version,
    comparison: 'top1',
    samples: 12,
    dropped: 1,
    errors: 2,
    latency_ms: { p50: 11, p95: 17.5 },
    active_latency_ms: { p50: 6, p95: 9.25 },
    agreement: 0.875,
    ...over,
  });

  before(async () => {
    hub = await startHub();
    await createGroup(hub, 'line-a');
    const a = await createDevice(hub, 'cam-a', 'line-a');
    v1 = await json<Model>(await pushModel(hub, fastModel(), { name: 'det', version: '1.0.0' }));
    v2 = await json<Model>(
      await pushModel(hub, slowModel({ hidden: 8, layers: 1 }), { name: 'det', version: '2.0.0' }),
    );
    // A model line-a's deployment does not name.
    other = await json<Model>(
      await pushModel(hub, slowModel({ hidden: 16, layers: 1 }), { name: 'det', version: '3.0.0' }),
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
    camera = await connectDevice(`mqtt://127.0.0.1:${hub.mqtt!.port}`, a);
    // Shadow phase: v1 serves from blue, the candidate v2 waits in green.
    const slot = (m: Model) => ({
      model_id: m.id,
      version: m.version,
      sha256: m.sha256,
      loaded: true,
    });
    await camera.publishAsync(
      deviceStateTopic('cam-a'),
      JSON.stringify({
        device_id: 'cam-a',
        online: true,
        ts: new Date().toISOString(),
        active_slot: 'blue',
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
    await camera?.endAsync();
    await hub?.stop();
  });

  it('stores an honest shadow block and refuses windows whose block the device may not send', async () => {
    const topic = deviceTelemetryTopic('cam-a');
    await camera.publishAsync(topic, window(10, { shadow: shadow(v2) }), { qos: 1 });
    await camera.publishAsync(topic, window(20), { qos: 1 }); // no shadow block
    // A candidate the group's deployment does not name (not in the standby slot).
    await camera.publishAsync(topic, window(30, { shadow: shadow(other, { agreement: 0.1 }) }), {
      qos: 1,
    });
    // The serving model as its own candidate, and another deployment's block.
    await camera.publishAsync(topic, window(35, { shadow: shadow(v1) }), { qos: 1 });
    await camera.publishAsync(
      topic,
      window(40, { shadow: shadow(v2, { deployment_id: 'dep-elsewhere' }) }),
      { qos: 1 },
    );

    const metrics = async () => (await (await fetch(`${hub.url}/metrics`)).text()) as string;
    for (let i = 0; i < 100; i++) {
      await hub.app.get(TelemetryService).flush();
      const text = await metrics();
      if (/reason="not_serving"} 2/.test(text) && /reason="foreign_deployment"} 1/.test(text))
        break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await hub.app.get(TelemetryService).flush();
    const text = await metrics();
    assert.match(text, /sentinel_telemetry_dropped_total\{reason="not_serving"} 2/);
    assert.match(text, /sentinel_telemetry_dropped_total\{reason="foreign_deployment"} 1/);

    const store = hub.app.get<TelemetryStore>(TELEMETRY_STORE);
    const query = { deployment: deploymentId, from: new Date(start), to: new Date(start + 60_000) };
    const main = await store.aggregateByDevice(query);
    assert.deepEqual(
      main.map((r) => [r.device, r.model_version, r.samples]),
      [['cam-a', '1.0.0', 2]],
      'the honest windows, with and without a shadow block',
    );
    assert.deepEqual(await store.aggregateShadow(query), [
      {
        device: 'cam-a',
        model_id: v2.id,
        model_version: '2.0.0',
        comparison: 'top1',
        windows: 1,
        samples: 12,
        dropped: 1,
        errors: 2,
        latency_p95: 17.5,
        latency_p95_sd: 0,
        active_latency_p95: 9.25,
        active_latency_p95_sd: 0,
        agreement: 0.875,
        agreement_sd: 0,
      },
    ]);
  });
});
