// Property tests of what a device may publish (docs/protocol.md section 3: its own state and
// telemetry topics, and its Last Will), against a real hub as a real device (mqtt.js): random
// bytes, random and broken JSON, protocol messages with one thing wrong, deep nesting, large
// fields. The hub never crashes, drops and counts every invalid message, keeps the connection, and
// still takes valid messages afterwards. Seeded: FUZZ_SEED=<n> replays a run (the seed is printed).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  deviceStateTopic,
  deviceTelemetryTopic,
  MAX_PAYLOAD_BYTES,
  type MessageOf,
} from '@sentinel/broker';
import { connectAsync, type MqttClient } from 'mqtt';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { createDevice, createGroup, type DeviceCredentialsResponse } from './support/fleet.js';
import { devicePayload, expectedValid, type DeviceMessageKind } from './support/mqtt-payloads.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2_147_483_647);
const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const DEVICE = 'cam-f1';
const WILL_DEVICE = 'cam-f2';
const WAIT_MS = 15_000;

async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < WAIT_MS / 25; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail(`timed out waiting for ${what} (FUZZ_SEED=${SEED})`);
}

/** The hub's counters, summed over the labels that match. */
async function counters(hub: InProcessHub): Promise<(prefix: string) => number> {
  const lines = (await (await fetch(`${hub.url}/metrics`)).text()).split('\n');
  return (prefix) =>
    lines
      .filter((l) => l.startsWith(prefix))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

const RECEIVED = 'sentinel_telemetry_received_total';
const INVALID = 'sentinel_telemetry_dropped_total{reason="invalid"}';
const DROPPED_STATES = 'sentinel_mqtt_messages_dropped_total{kind="device_state"';

/** Drops of messages already counted as received: out of the device's scope, or at the store. */
const AFTER_RECEIPT = [
  'foreign_deployment',
  'not_serving',
  'unknown_device',
  'overflow',
  'rejected',
];

/** Every telemetry message the hub took or dropped at intake (not later: scope check, store). */
function telemetryAccounted(count: (prefix: string) => number): number {
  const dropped = count('sentinel_telemetry_dropped_total{');
  const afterReceipt = AFTER_RECEIPT.reduce(
    (sum, reason) => sum + count(`sentinel_telemetry_dropped_total{reason="${reason}"}`),
    0,
  );
  return count(RECEIVED) + dropped - afterReceipt;
}

function telemetryMarker(): Buffer {
  const marker: MessageOf<'telemetry'> = {
    device_id: DEVICE,
    ts: new Date().toISOString(),
    window_s: 10,
    frames: 1,
    fps: 0.1,
    latency_ms: { p50: 1, p95: 1, max: 1 },
    memory_mb: 1,
    errors: 0,
    model_id: null,
    model_version: null,
    slot: null,
    deployment_id: null,
  };
  return Buffer.from(JSON.stringify(marker));
}

describe(`MQTT fuzz of device publications (FUZZ_SEED=${SEED})`, () => {
  let hub: InProcessHub;
  let url: string;
  let devices: Record<string, DeviceCredentialsResponse>;
  let client: MqttClient;
  let markers = 0;

  const connectAs = (id: string, extra: Record<string, unknown> = {}) =>
    connectAsync(
      url,
      {
        clientId: id,
        username: id,
        password: devices[id]!.credentials.password,
        protocolVersion: 4,
        reconnectPeriod: 0,
        ...extra,
      },
      false,
    );

  /** Publishes a valid state with a new agent_version and waits until the hub recorded it. */
  const stateMarker = async (from: MqttClient, id: string) => {
    const version = `marker-${++markers}`;
    const state: MessageOf<'device-state'> = {
      device_id: id,
      online: true,
      ts: new Date().toISOString(),
      agent_version: version,
    };
    await from.publishAsync(deviceStateTopic(id), JSON.stringify(state), { qos: 1 });
    await eventually(`the state marker ${version} of ${id}`, async () => {
      const device = (await (await api(hub)(`/api/v1/devices/${id}`)).json()) as {
        agent_version?: string;
      };
      return device.agent_version === version;
    });
  };

  const healthy = async () => {
    assert.equal((await fetch(`${hub.url}/health`)).status, 200);
  };

  before(async () => {
    console.log(`mqtt fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);
    hub = await startHub({ MQTT_TELEMETRY_RATE: '0', LOG_LEVEL: 'error' });
    url = `mqtt://127.0.0.1:${hub.mqtt!.port}`;
    await createGroup(hub, 'fuzz');
    devices = {
      [DEVICE]: await createDevice(hub, DEVICE, 'fuzz'),
      [WILL_DEVICE]: await createDevice(hub, WILL_DEVICE, 'fuzz'),
    };
    client = await connectAs(DEVICE);
  });
  after(async () => {
    await client?.endAsync(true);
    await hub?.stop();
  });

  const batch = (kind: DeviceMessageKind) =>
    fc.array(devicePayload(kind, DEVICE), { minLength: 1, maxLength: 15 });

  it('telemetry: every message taken or dropped and counted; valid ones still taken', async () => {
    await fc.assert(
      fc.asyncProperty(batch('telemetry'), async (payloads) => {
        const before = await counters(hub);
        for (const payload of payloads) {
          await client.publishAsync(deviceTelemetryTopic(DEVICE), payload, { qos: 1 });
        }
        await client.publishAsync(deviceTelemetryTopic(DEVICE), telemetryMarker(), { qos: 1 });
        const sent = payloads.length + 1;
        const invalid = payloads.filter((p) => !expectedValid('telemetry', DEVICE, p)).length;
        let now = before;
        await eventually('every telemetry message accounted for', async () => {
          now = await counters(hub);
          return telemetryAccounted(now) - telemetryAccounted(before) === sent;
        });
        assert.equal(now(INVALID) - before(INVALID), invalid, 'invalid ones dropped and counted');
        assert.ok(now(RECEIVED) - before(RECEIVED) >= 1, 'the valid marker was taken');
        assert.equal(client.connected, true);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    await healthy();
  });

  it('state: every invalid message dropped and counted; valid ones still recorded', async () => {
    await fc.assert(
      fc.asyncProperty(batch('device-state'), async (payloads) => {
        const before = await counters(hub);
        for (const payload of payloads) {
          await client.publishAsync(deviceStateTopic(DEVICE), payload, { qos: 1 });
        }
        await stateMarker(client, DEVICE);
        // An empty payload clears a retained state: neither a report nor an invalid message.
        const invalid = payloads.filter(
          (p) => p.length > 0 && !expectedValid('device-state', DEVICE, p),
        ).length;
        const now = await counters(hub);
        assert.equal(now(DROPPED_STATES) - before(DROPPED_STATES), invalid);
        assert.equal(client.connected, true);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    await healthy();
  });

  it('Last Will: an invalid will is dropped and counted when the broker publishes it', async () => {
    const willPayload = devicePayload('device-state', WILL_DEVICE).filter(
      (p) => p.length <= 65_535,
    );
    await fc.assert(
      // A will's payload has a two-byte length in CONNECT: at most 65535 bytes.
      fc.asyncProperty(willPayload, async (payload) => {
        const before = await counters(hub);
        const will = { topic: deviceStateTopic(WILL_DEVICE), payload, qos: 1, retain: true };
        const dying = await connectAs(WILL_DEVICE, { will });
        dying.stream.destroy(); // no DISCONNECT: the broker publishes the will
        const invalid = payload.length > 0 && !expectedValid('device-state', WILL_DEVICE, payload);
        await eventually('the will to be counted', async () => {
          const now = await counters(hub);
          return now(DROPPED_STATES) - before(DROPPED_STATES) === (invalid ? 1 : 0);
        });
        const next = await connectAs(WILL_DEVICE);
        await stateMarker(next, WILL_DEVICE);
        await next.endAsync();
      }),
      { seed: SEED, numRuns: Math.ceil(RUNS / 2) },
    );
    await healthy();
  });

  it('over the payload limit: refused and counted, the connection closed, the device back at once', async () => {
    const before = await counters(hub);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(deviceTelemetryTopic(DEVICE), Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x7b), {
      qos: 1,
    });
    await closed;
    const now = await counters(hub);
    assert.equal(
      now('sentinel_mqtt_denied_total{action="publish",reason="payload_too_large"}') -
        before('sentinel_mqtt_denied_total{action="publish",reason="payload_too_large"}'),
      1,
    );
    client.end(true);
    client = await connectAs(DEVICE);
    await stateMarker(client, DEVICE);
    await healthy();
  });
});
