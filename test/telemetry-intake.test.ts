// Telemetry intake over MQTT into the embedded store: windows with a latency histogram (current
// agents) and without one (older agents) are both taken; an invalid histogram fails the schema.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deviceTelemetryTopic, histogramPercentile, type LatencyHistogram } from '@sentinel/broker';
import type { MqttClient } from 'mqtt';
import { DataSource } from 'typeorm';
import { TelemetryService } from '../src/telemetry/telemetry.service.js';
import { TELEMETRY_STORE, type TelemetryStore } from '../src/telemetry/telemetry-store.js';
import { byVersion } from '../src/telemetry/domain/aggregate.js';
import { startHub, type InProcessHub } from './support/hub.js';
import { connectDevice, createDevice, createGroup } from './support/fleet.js';
import { telemetryWindow } from './support/telemetry-window.js';

const HIST: LatencyHistogram = [
  [52, 30],
  [53, 60],
  [60, 10],
];

describe('telemetry intake with and without latency histograms', () => {
  let hub: InProcessHub;
  let client: MqttClient;
  const start = Date.now() - 60_000;

  /** A telemetry window of cam-t1, `seconds` after `start`. */
  const window = (seconds: number, extra: Record<string, unknown> = {}) =>
    telemetryWindow('cam-t1', start, seconds, {
      model_id: 'm-1',
      model_version: '1.0.0',
      slot: 'blue',
      deployment_id: null,
      ...extra,
    });

  before(async () => {
    hub = await startHub();
    await createGroup(hub, 'yard');
    const device = await createDevice(hub, 'cam-t1', 'yard');
    client = await connectDevice(`mqtt://127.0.0.1:${hub.mqtt!.port}`, device);
  });
  after(async () => {
    await client?.endAsync();
    await hub?.stop();
  });

  it('stores both kinds of windows, keeps the histograms, and drops an invalid one', async () => {
    const topic = deviceTelemetryTopic('cam-t1');
    await client.publishAsync(topic, window(10, { latency_hist: HIST }), { qos: 1 });
    await client.publishAsync(topic, window(20), { qos: 1 });
    await client.publishAsync(topic, window(30, { latency_hist: [[149, 1]] }), { qos: 1 });
    await client.publishAsync(topic, window(40, { latency_hist: HIST }), { qos: 1 });

    const store = hub.app.get<TelemetryStore>(TELEMETRY_STORE);
    // No deployment: its windows are tagged "none" (by deployment: the group tag depends on when
    // the hub learnt the new device's placement).
    const query = { deployment: 'none', from: new Date(start), to: new Date(start + 60_000) };
    let rows = await store.aggregateByDevice(query);
    for (let i = 0; i < 100 && (rows[0]?.samples ?? 0) < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await hub.app.get(TelemetryService).flush();
      rows = await store.aggregateByDevice(query);
    }
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.samples, 3, 'the windows with and without a histogram');
    assert.deepEqual(rows[0]!.latency_hist, [
      [52, 60],
      [53, 120],
      [60, 20],
    ]);
    const [version] = byVersion(rows);
    assert.equal(version!.latency_p95_fleet, histogramPercentile(HIST, 95));
    assert.equal(version!.latency_p95, 9);

    // In the table: the histogram as sent, NULL for the older agent's window.
    const stored: { hist: unknown }[] = await hub.app
      .get(DataSource)
      .query(
        `SELECT latency_hist AS hist FROM telemetry_points WHERE device = 'cam-t1' ORDER BY time`,
      );
    assert.deepEqual(
      stored.map((r) => r.hist),
      [HIST, null, HIST],
    );
    const metrics = await (await fetch(`${hub.url}/metrics`)).text();
    assert.match(metrics, /sentinel_telemetry_dropped_total\{reason="invalid"\} 1/);
    assert.equal(client.connected, true);
  });
});
