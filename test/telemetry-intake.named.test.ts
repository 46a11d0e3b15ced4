// Telemetry of a named model (docs/protocol.md 6.6): a window with `serve_as: N` is checked against
// the slots of `models.N` in the device's state report, not the top-level (default) slots. Real
// hub, real MQTT (the device's own mqtt.js client), the embedded telemetry store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deviceStateTopic, deviceTelemetryTopic, type DeviceState } from '@sentinel/broker';
import type { MqttClient } from 'mqtt';
import { DataSource } from 'typeorm';
import { BrokerService } from '../src/broker/broker.service.js';
import { TelemetryService } from '../src/telemetry/telemetry.service.js';
import { startHub, type InProcessHub } from './support/hub.js';
import { connectDevice, createDevice, createGroup } from './support/fleet.js';
import { telemetryWindow } from './support/telemetry-window.js';

const SHA = 'a'.repeat(64);

describe('telemetry intake of named models', () => {
  let hub: InProcessHub;
  let client: MqttClient;
  const start = Date.now() - 60_000;

  const window = (seconds: number, extra: Record<string, unknown>) =>
    telemetryWindow('cam-s1', start, seconds, {
      model_version: '1.0.0',
      slot: 'blue',
      deployment_id: null,
      ...extra,
    });

  before(async () => {
    hub = await startHub();
    await createGroup(hub, 'yard');
    const device = await createDevice(hub, 'cam-s1', 'yard');
    client = await connectDevice(`mqtt://127.0.0.1:${hub.mqtt!.port}`, device);
  });
  after(async () => {
    await client?.endAsync();
    await hub?.stop();
  });

  it('takes a named window for the named model in its slot and refuses one for another model', async () => {
    const state: DeviceState = {
      device_id: 'cam-s1',
      online: true,
      ts: new Date().toISOString(),
      active_slot: 'blue',
      slots: {
        blue: { model_id: 'det-1', version: '1.0.0', sha256: SHA, loaded: true },
        green: null,
      },
      deployment: null,
      models: {
        classifier: {
          active_slot: 'blue',
          slots: {
            blue: { model_id: 'cls-1', version: '1.0.0', sha256: SHA, loaded: true },
            green: null,
          },
          deployment: null,
        },
      },
    };
    await client.publishAsync(deviceStateTopic('cam-s1'), JSON.stringify(state), {
      qos: 1,
      retain: true,
    });
    await hub.app.get(BrokerService).flushStates();
    // The scope learns the report through the fleet's event; give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));

    const topic = deviceTelemetryTopic('cam-s1');
    const sent = [
      window(10, { model_id: 'det-1' }), // default, its own slot: taken
      window(20, { model_id: 'cls-1', serve_as: 'classifier' }), // the classifier's slot: taken
      window(30, { model_id: 'det-1', serve_as: 'classifier' }), // not the classifier's model
      window(40, { model_id: 'cls-1' }), // default's blue slot holds det-1, not cls-1
      window(50, { model_id: 'cls-1', serve_as: 'tracker' }), // a name it does not serve
    ];
    for (const message of sent) await client.publishAsync(topic, message, { qos: 1 });

    const db = hub.app.get(DataSource);
    let stored: { model_id: string }[] = [];
    for (let i = 0; i < 100 && stored.length < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await hub.app.get(TelemetryService).flush();
      stored = await db.query(
        `SELECT model_id FROM telemetry_points WHERE device = 'cam-s1' ORDER BY time`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    await hub.app.get(TelemetryService).flush();
    stored = await db.query(
      `SELECT model_id FROM telemetry_points WHERE device = 'cam-s1' ORDER BY time`,
    );
    assert.deepEqual(
      stored.map((r) => r.model_id),
      ['det-1', 'cls-1'],
    );
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    assert.match(metrics, /sentinel_telemetry_dropped_total\{reason="not_serving"\} 3/);
  });
});
