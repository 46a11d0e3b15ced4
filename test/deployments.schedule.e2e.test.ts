// Scheduled starts and maintenance windows with real agents, watched on the wire: nothing is
// published for a deployment before its start or outside its group's windows (it says what it
// waits for), a canary step waits for the window, and a rollback is never held.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { groupDesiredTopic } from '@sentinel/broker';
import { connectAsync, type MqttClient } from 'mqtt';
import { AgentFleet, saltFor } from './support/agent-fleet.js';
import {
  deploy,
  deploymentAction,
  getDeployment,
  waitForDeployment,
} from './support/deployments.js';
import { pinGroup } from './support/fleet.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel, slowModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';

const DEVICES = ['cam-w1', 'cam-w2', 'cam-w3'];
const ALL_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const hhmm = (date: Date) => date.toISOString().slice(11, 16);
const hours = (n: number) => new Date(Date.now() + n * 3600_000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('scheduled starts and maintenance windows with real agents', () => {
  let hub: InProcessHub;
  let fleet: AgentFleet;
  let observer: MqttClient;
  /** Desired states of group yard as they crossed the wire: the deployment each belongs to. */
  const published: { at: number; deployment: string | null; activate: string }[] = [];
  const versions: Record<string, string> = {};

  const setWindows = async (windows: unknown[]) => {
    const response = await api(hub)('/api/v1/groups/yard/maintenance-windows', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ windows }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as { maintenance_windows: unknown[] };
  };
  // UTC windows that are closed for the next three hours, or open for the next two.
  const closedNow = () => ({ days: ALL_DAYS, start: hhmm(hours(3)), end: hhmm(hours(4)) });
  const openNow = () => ({ days: ALL_DAYS, start: hhmm(hours(-1)), end: hhmm(hours(2)) });
  const base = {
    environment: 'production',
    target: 'yard',
    rules: { enabled: false },
    observe_s: 0,
  };
  const publishedFor = (id: string) => published.filter((p) => p.deployment === id);

  before(async () => {
    hub = await startHub({ ROLLOUT_INTERVAL_MS: '100' });
    fleet = await AgentFleet.start(hub, { SENTINEL_TELEMETRY_INTERVAL_S: '60' });
    await fleet.group('yard', DEVICES);
    for (const [version, bytes] of [
      ['1.0.0', fastModel()],
      ['2.0.0', slowModel({ rows: 4 })],
      ['3.0.0', slowModel({ rows: 5 })],
      ['4.0.0', slowModel({ rows: 6 })],
    ] as const) {
      const body = await json<{ id: string }>(
        await pushModel(hub, bytes, { name: 'det', version }),
      );
      versions[version] = body.id;
    }
    await pinGroup(hub, 'yard', versions['1.0.0']!);
    await fleet.waitServing(DEVICES, '1.0.0');
    observer = await connectAsync(`mqtt://127.0.0.1:${hub.mqtt!.port}`, {
      username: 'observer',
      password: hub.adminToken,
      protocolVersion: 4,
    });
    observer.on('message', (_topic, payload) => {
      const desired = JSON.parse(payload.toString()) as {
        deployment_id?: string | null;
        activate: string;
      };
      published.push({
        at: Date.now(),
        deployment: desired.deployment_id ?? null,
        activate: desired.activate,
      });
    });
    await observer.subscribeAsync(groupDesiredTopic('yard'), { qos: 1 });
  });
  after(async () => {
    await observer?.endAsync();
    await fleet?.stop();
    await hub?.stop();
  });

  it('a scheduled deployment is pending, publishes nothing before its start, then runs', async () => {
    const startAt = new Date(Date.now() + 3000);
    const created = await deploy(hub, {
      ...base,
      model_id: versions['2.0.0']!,
      deployment_type: 'blue-green',
      start_at: startAt.toISOString(),
    });
    assert.equal(created.status, 'pending');
    assert.equal(created.status_reason, `scheduled: starts at ${startAt.toISOString()}`);
    assert.equal(created.start_at, startAt.toISOString());
    await sleep(1500);
    assert.equal((await getDeployment(hub, created.id)).status, 'pending');
    assert.deepEqual(publishedFor(created.id), []);

    const done = await waitForDeployment(hub, created.id, (d) => d.status === 'succeeded');
    assert.ok(done.events.some((e) => e.from_status === 'pending' && e.to_status === 'staging'));
    const first = publishedFor(created.id)[0];
    assert.ok(first, 'its desired state was published');
    assert.ok(first.at >= startAt.getTime(), 'not before its start');
    await fleet.waitServing(DEVICES, '2.0.0');
  });

  it('waits outside the group window saying until when; a pending one is cancelled without a trace', async () => {
    const window = closedNow();
    await setWindows([window]);
    const created = await deploy(hub, {
      ...base,
      model_id: versions['3.0.0']!,
      deployment_type: 'blue-green',
    });
    assert.equal(created.status, 'pending');
    assert.match(
      created.status_reason ?? '',
      /^waiting for the maintenance window of group yard: opens at \d{4}-\d\d-\d\dT/,
    );
    await sleep(1500);
    assert.equal((await getDeployment(hub, created.id)).status, 'pending');
    assert.deepEqual(publishedFor(created.id), []);
    assert.equal((await deploymentAction(hub, created.id, 'rollback')).status, 200);
    assert.equal((await getDeployment(hub, created.id)).status, 'rolled_back');
    assert.deepEqual(publishedFor(created.id), []);
    assert.equal(await fleet.serving(DEVICES[0]!), '2.0.0');
  });

  it('runs inside a window, and a rollback outside one is not held', async () => {
    await setWindows([openNow()]);
    const created = await deploy(hub, {
      ...base,
      model_id: versions['3.0.0']!,
      deployment_type: 'blue-green',
    });
    assert.equal(created.status, 'staging');
    await waitForDeployment(hub, created.id, (d) => d.status === 'succeeded');
    await fleet.waitServing(DEVICES, '3.0.0');

    await setWindows([closedNow()]);
    assert.equal((await deploymentAction(hub, created.id, 'rollback')).status, 200);
    await fleet.waitServing(DEVICES, '2.0.0');
  });

  it('holds the next canary step until the window opens', async () => {
    await setWindows([openNow()]);
    const salt = saltFor(DEVICES, 34, 1, 'window');
    const created = await deploy(hub, {
      ...base,
      model_id: versions['4.0.0']!,
      deployment_type: 'canary',
      canary: { steps: [34, 100], step_interval_s: 2, salt },
    });
    assert.equal(created.status, 'in_progress');
    await setWindows([closedNow()]);
    const held = await waitForDeployment(hub, created.id, (d) =>
      /^waiting for the maintenance window of group yard/.test(d.status_reason ?? ''),
    );
    assert.equal(held.canary?.step_index, 0);
    await sleep(1000);
    assert.equal((await getDeployment(hub, created.id)).canary?.step_index, 0);

    const cleared = await setWindows([]);
    assert.deepEqual(cleared.maintenance_windows, []);
    await waitForDeployment(hub, created.id, (d) => d.status === 'succeeded');
    await fleet.waitServing(DEVICES, '4.0.0');
  });

  it('refuses malformed windows and start times with a message', async () => {
    for (const windows of [
      [{ days: [], start: '01:00', end: '02:00' }],
      [{ days: ['mon'], start: '1am', end: '02:00' }],
      [{ days: ['mon'], start: '01:00', end: '02:00', time_zone: 'Mars/Olympus' }],
    ]) {
      const response = await api(hub)('/api/v1/groups/yard/maintenance-windows', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ windows }),
      });
      assert.equal(response.status, 400, JSON.stringify(windows));
      assert.ok(((await response.json()) as { message: string }).message);
    }
    const missing = await api(hub)('/api/v1/groups/nowhere/maintenance-windows', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ windows: [] }),
    });
    assert.equal(missing.status, 404);
    const badStart = await api(hub)('/api/v1/deployments', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ...base,
        model_id: versions['1.0.0'],
        deployment_type: 'blue-green',
        start_at: 'tomorrow',
      }),
    });
    assert.equal(badStart.status, 400);
    assert.match(((await badStart.json()) as { message: string }).message, /start_at/);
  });
});
