// GET /api/v1/events end to end: a real hub, real agents (simulation mode) and the stream read the
// way the console reads it (fetch streaming, the token in the Authorization header).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { deviceStateTopic } from '@sentinel/broker';
import { AgentFleet } from './support/agent-fleet.js';
import { deploy, waitForDeployment } from './support/deployments.js';
import { EventStream } from './support/event-stream.js';
import { connectDevice, createDevice, createGroup } from './support/fleet.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { validMessage } from './support/mqtt-payloads.js';
import { fastModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';

const AGENTS = ['cam-1', 'cam-2'];
const LOAD_DEVICES = Array.from({ length: 10 }, (_, i) => `load-${i}`);
const REPORTS = 1000;

interface DeploymentEvent {
  id: string;
  status: string;
}
interface DevicesEvent {
  ids: string[];
  more: boolean;
}

async function createToken(
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

describe('live events (GET /api/v1/events)', () => {
  let hub: InProcessHub;
  let fleet: AgentFleet;
  let viewer: { id: string; token: string };
  const streams: EventStream[] = [];
  const clients: MqttClient[] = [];

  const open = async (token: string) => {
    const stream = await EventStream.open(hub.url, token);
    streams.push(stream);
    return stream;
  };

  before(async () => {
    hub = await startHub({ ROLLOUT_INTERVAL_MS: '100' });
    viewer = await createToken(hub, 'events-viewer');
    fleet = await AgentFleet.start(hub, {
      SENTINEL_SIMULATE_FPS: '5',
      SENTINEL_TELEMETRY_INTERVAL_S: '60',
    });
    await fleet.group('yard', AGENTS);
  });
  after(async () => {
    for (const stream of streams) await stream.close();
    for (const client of clients) await client.endAsync();
    await fleet?.stop();
    await hub?.stop();
  });

  it('streams model, deployment and devices events as a deployment rolls out', async () => {
    const stream = await open(viewer.token);
    assert.equal(stream.response.status, 200);
    assert.match(stream.response.headers.get('content-type') ?? '', /^text\/event-stream/);

    const pushed = await json<{ id: string }>(
      await pushModel(hub, fastModel(), { name: 'det', version: '1.0.0' }),
    );
    await stream.until(
      () => stream.of<{ id: string }>('model').some((e) => e.id === pushed.id),
      'the model event',
    );

    const deployment = await deploy(hub, {
      model_id: pushed.id,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'yard',
      rules: { enabled: false },
    });
    const mine = () =>
      stream.of<DeploymentEvent>('deployment').filter((e) => e.id === deployment.id);
    await stream.until(
      () => mine().some((e) => e.status === 'succeeded'),
      'the deployment to succeed on the stream',
    );
    await waitForDeployment(hub, deployment.id, (d) => d.status === 'succeeded');
    await fleet.waitServing(AGENTS, '1.0.0');

    // Created in staging, cut over, succeeded: the stream saw it from start to end.
    const statuses = mine().map((e) => e.status);
    assert.equal(statuses[0], 'staging', statuses.join(','));
    assert.ok(statuses.includes('in_progress'), statuses.join(','));
    assert.equal(statuses.at(-1), 'succeeded');
    // The agents' state reports (download, staged, active) named both devices.
    await stream.until(() => {
      const named = new Set(stream.of<DevicesEvent>('devices').flatMap((e) => e.ids));
      return AGENTS.every((id) => named.has(id));
    }, 'devices events naming both agents');
    assert.equal(stream.other[0], 'retry: 3000');
    console.log(
      `# deployment ${deployment.id}: ${statuses.length} deployment events (${statuses.join(' > ')}), ` +
        `${stream.of('devices').length} devices events`,
    );
  });

  it('coalesces 1,000 quick device reports into a bounded number of devices events', async () => {
    await createGroup(hub, 'load');
    const credentials = [];
    for (const id of LOAD_DEVICES) credentials.push(await createDevice(hub, id, 'load'));
    await createDevice(hub, 'marker', 'load');
    for (const device of credentials)
      clients.push(await connectDevice(`mqtt://127.0.0.1:${hub.mqtt!.port}`, device));
    const stream = await open(viewer.token);

    const started = Date.now();
    // 1,000 state reports: rounds of one report per device, each round acknowledged (QoS 1).
    const rounds = REPORTS / LOAD_DEVICES.length;
    for (let round = 0; round < rounds; round++) {
      await Promise.all(
        clients.map((client, i) => {
          const state = validMessage('device-state', LOAD_DEVICES[i]!);
          // The last report of each device is told apart by its agent version.
          state.agent_version = round === rounds - 1 ? '9.9.9' : `0.${round}.0`;
          return client.publishAsync(deviceStateTopic(LOAD_DEVICES[i]!), JSON.stringify(state), {
            qos: 1,
          });
        }),
      );
    }
    // Wait until the hub has written the last report of every device (it tells the events after
    // writing), then change one more device: its event comes after, or with, every load device
    // still waiting to be named.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const listed = (await (await api(hub)('/api/v1/devices?group=load&limit=500')).json()) as {
        items: { id: string; agent_version: string | null }[];
      };
      const done = listed.items.filter((d) => d.agent_version === '9.9.9');
      if (done.length === LOAD_DEVICES.length) break;
      assert.ok(Date.now() < deadline, 'the reports were not all recorded');
      await new Promise((r) => setTimeout(r, 100));
    }
    const patched = await api(hub)('/api/v1/devices/marker', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'marker 2' }),
    });
    assert.equal(patched.status, 200);
    await stream.until(
      () => stream.of<DevicesEvent>('devices').some((e) => e.ids.includes('marker')),
      'the marker device event',
    );
    const elapsedMs = Date.now() - started;

    const load = stream
      .of<DevicesEvent>('devices')
      .filter((e) => e.ids.some((id) => id.startsWith('load-')));
    const named = new Set(load.flatMap((e) => e.ids));
    assert.deepEqual(
      LOAD_DEVICES.filter((id) => !named.has(id)),
      [],
      'every reporting device is named',
    );
    for (const event of load) {
      assert.ok(event.ids.length <= 500);
      assert.equal(new Set(event.ids).size, event.ids.length, 'a device once per event');
    }
    // At most one devices event per 500 ms (and the first at once); far fewer than the reports.
    assert.ok(
      load.length <= Math.floor(elapsedMs / 500) + 2,
      `${load.length} events in ${elapsedMs} ms`,
    );
    assert.ok(load.length <= REPORTS / 20, `${load.length} events for ${REPORTS} reports`);
    console.log(
      `# ${REPORTS} state reports of ${LOAD_DEVICES.length} devices: ${load.length} devices events in ${elapsedMs} ms`,
    );
  });

  it('closes the streams of a deleted token, and only those', async () => {
    const doomed = await createToken(hub, 'events-doomed');
    const closing = await open(doomed.token);
    const staying = await open(viewer.token);
    await closing.until(() => closing.other.includes('retry: 3000'), 'the stream to start');
    await staying.until(() => staying.other.includes('retry: 3000'), 'the stream to start');
    const deleted = await api(hub)(`/api/v1/tokens/${doomed.id}`, { method: 'DELETE' });
    assert.equal(deleted.status, 204);
    await closing.closedByHub();
    assert.equal(closing.ended, true);
    // The other stream still carries events.
    const patched = await api(hub)('/api/v1/devices/cam-1', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'camera one' }),
    });
    assert.equal(patched.status, 200);
    await staying.until(
      () => staying.of<DevicesEvent>('devices').some((e) => e.ids.includes('cam-1')),
      'an event on the stream that stays',
    );
    assert.equal(staying.ended, false);
    // The deleted token cannot open another.
    const again = await fetch(`${hub.url}/api/v1/events`, {
      headers: { authorization: `Bearer ${doomed.token}` },
    });
    assert.equal(again.status, 401);
  });
});
