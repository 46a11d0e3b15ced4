// A notification rate limit with real agents, watched on the wire: the group's desired state widens
// its cohort a device at a time at the deployment's pace, no device starts before it is told, the
// blue/green cutover waits for the last one, and a canary step's cohort is never passed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cohortBucket, groupDesiredTopic } from '@sentinel/broker';
import { connectAsync, type MqttClient } from 'mqtt';
import { AgentFleet, saltFor } from './support/agent-fleet.js';
import { deploy, getDeployment, StateRecorder, waitForDeployment } from './support/deployments.js';
import { pinGroup } from './support/fleet.js';
import { startHub, type InProcessHub } from './support/hub.js';
import { fastModel, slowModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';

const DEVICES = ['cam-r1', 'cam-r2', 'cam-r3', 'cam-r4', 'cam-r5'];
const WORKING = new Set(['downloading', 'verifying', 'staged', 'active']);

interface Published {
  at: number;
  deployment: string | null;
  activate: string;
  cohort: { percent: number; salt: string } | null;
}

describe('a notification rate limit with real agents', () => {
  let hub: InProcessHub;
  let fleet: AgentFleet;
  let observer: MqttClient;
  let states: StateRecorder;
  const published: Published[] = [];
  const versions: Record<string, string> = {};
  const base = {
    environment: 'production',
    target: 'line',
    rules: { enabled: false },
    observe_s: 0,
  };

  /** When each device was first told (a desired state of the deployment whose cohort holds it). */
  const toldAt = (id: string, activate: string) => {
    const told = new Map<string, number>();
    for (const p of published.filter((m) => m.deployment === id && m.activate === activate)) {
      for (const device of DEVICES) {
        const inside =
          p.cohort === null ||
          cohortBucket(p.cohort.salt, device) < Math.round(p.cohort.percent * 100);
        if (inside && !told.has(device)) told.set(device, p.at);
      }
    }
    return told;
  };
  /** When a device first reported working on the deployment (downloading or further). */
  const startedAt = (id: string, device: string) =>
    states
      .of(device)
      .find(
        (s) => s.state.deployment?.deployment_id === id && WORKING.has(s.state.deployment.phase),
      )?.at;

  before(async () => {
    hub = await startHub({ ROLLOUT_INTERVAL_MS: '100' });
    fleet = await AgentFleet.start(hub, { SENTINEL_TELEMETRY_INTERVAL_S: '60' });
    await fleet.group('line', DEVICES);
    for (const [version, bytes] of [
      ['1.0.0', fastModel()],
      ['2.0.0', slowModel({ rows: 4 })],
      ['3.0.0', slowModel({ rows: 5 })],
    ] as const) {
      const body = await json<{ id: string }>(
        await pushModel(hub, bytes, { name: 'det', version }),
      );
      versions[version] = body.id;
    }
    await pinGroup(hub, 'line', versions['1.0.0']!);
    await fleet.waitServing(DEVICES, '1.0.0');
    states = await StateRecorder.connect(hub);
    observer = await connectAsync(`mqtt://127.0.0.1:${hub.mqtt!.port}`, {
      username: 'observer',
      password: hub.adminToken,
      protocolVersion: 4,
    });
    observer.on('message', (_topic, payload) => {
      const desired = JSON.parse(payload.toString()) as Omit<Published, 'at'> & {
        deployment_id?: string | null;
      };
      published.push({
        at: Date.now(),
        deployment: desired.deployment_id ?? null,
        activate: desired.activate,
        cohort: desired.cohort,
      });
    });
    await observer.subscribeAsync(groupDesiredTopic('line'), { qos: 1 });
  });
  after(async () => {
    await observer?.endAsync();
    await states?.close();
    await fleet?.stop();
    await hub?.stop();
  });

  it('blue/green at 30 a minute: devices are told one at a time, the cutover waits for the last', async () => {
    const created = await deploy(hub, {
      ...base,
      model_id: versions['2.0.0']!,
      deployment_type: 'blue-green',
      rate: { max_per_minute: 30 },
    });
    // The rollout loop may tell the first device before the POST answers (a loaded machine).
    const { notified_percent: atCreation, ...rate } = created.rate as { notified_percent: number };
    assert.deepEqual(rate, { max_per_minute: 30, ramp: null });
    assert.ok(atCreation < 100, `${atCreation} % told at creation`);
    const early = await getDeployment(hub, created.id);
    assert.ok(
      (early.rate as { notified_percent: number }).notified_percent < 100,
      'not everyone is told at once',
    );

    const done = await waitForDeployment(hub, created.id, (d) => d.status === 'succeeded', 60_000);
    await fleet.waitServing(DEVICES, '2.0.0');
    assert.equal((done.rate as { notified_percent: number }).notified_percent, 100);
    assert.ok(
      done.events.some((e) => e.type === 'notified'),
      'an event says when the last device was told',
    );

    // On the wire: the staging message widened its cohort step by step, never shrinking.
    const staging = published.filter(
      (p) => p.deployment === created.id && p.activate === 'previous',
    );
    const percents = staging.map((p) => p.cohort?.percent ?? 100);
    assert.deepEqual(
      [...percents].sort((a, b) => a - b),
      percents,
      'the cohort only grows',
    );
    assert.ok(staging.length >= 4, `${staging.length} staging messages: one per device told`);

    // One device every 2 s: five devices (devices sharing a cohort bucket go together) take over
    // six seconds from the first to the last.
    const told = toldAt(created.id, 'previous');
    assert.equal(told.size, DEVICES.length, 'every device was told');
    const times = [...told.values()].sort((a, b) => a - b);
    assert.ok(times.at(-1)! - times[0]! >= 6000, `told over ${times.at(-1)! - times[0]!} ms`);

    // No device started before it was told; the cutover came after the last one.
    for (const device of DEVICES) {
      const started = startedAt(created.id, device);
      assert.ok(started !== undefined, `${device} reported its progress`);
      assert.ok(started >= told.get(device)!, `${device} started before it was told`);
    }
    const cutover = published.find((p) => p.deployment === created.id && p.activate === 'new');
    assert.ok(cutover && cutover.at >= times.at(-1)!, 'the cutover after the last notification');
  });

  it('a canary step keeps to its cohort while the rate tells its devices', async () => {
    const salt = saltFor(DEVICES, 40, 2, 'rate');
    const created = await deploy(hub, {
      ...base,
      model_id: versions['3.0.0']!,
      deployment_type: 'canary',
      canary: { steps: [40, 100], step_interval_s: 0, salt },
      rate: { max_per_minute: 60 },
    });
    await waitForDeployment(hub, created.id, (d) => d.status === 'succeeded', 60_000);
    await fleet.waitServing(DEVICES, '3.0.0');

    const mine = published.filter((p) => p.deployment === created.id && p.activate === 'new');
    const told = toldAt(created.id, 'new');
    const first = DEVICES.filter((d) => cohortBucket(salt, d) < 4000);
    assert.equal(first.length, 2);
    // The step's two devices were told before any device outside the 40 % cohort.
    const lastOfStep = Math.max(...first.map((d) => told.get(d)!));
    for (const device of DEVICES.filter((d) => !first.includes(d))) {
      assert.ok(told.get(device)! >= lastOfStep, `${device} was told within the 40 % step`);
    }
    // Step 2 (100 %) began only when the first step's devices were told and active.
    const firstBeyond = mine.find((p) => (p.cohort?.percent ?? 100) > 40);
    assert.ok(firstBeyond, 'the cohort grew past the step');
    for (const device of first) {
      const active = states
        .of(device)
        .find(
          (s) =>
            s.state.deployment?.deployment_id === created.id &&
            s.state.deployment.phase === 'active',
        );
      assert.ok(active && active.at <= firstBeyond.at, `${device} was active before step 2`);
    }
  });
});
