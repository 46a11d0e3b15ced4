// Device deferral end to end: the hub and two real agent processes with real ONNX models. The
// application of one device holds the update lock through the agent's local API; that device
// defers the swap (reporting why) while the other proceeds, and takes the update when the lock is
// released or the deployment's maximum deferral passes. A rollback is never deferred.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentFleet } from './support/agent-fleet.js';
import {
  deploy,
  deploymentAction,
  getDeployment,
  StateRecorder,
  servingVersion,
  waitForDeployment,
  type DeploymentDetail,
} from './support/deployments.js';
import { pinGroup } from './support/fleet.js';
import { startHub, type InProcessHub } from './support/hub.js';
import { fastModel, goldenMismatchModel, slowModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';

const LOCKED = 'cam-rec';
const FREE = 'cam-free';

interface AgentStatus {
  active_slot: string | null;
  slots: Record<string, { version: string } | null>;
  deployment: {
    deployment_id: string | null;
    phase: string;
    reason?: string;
    detail?: string;
    deferred_until?: string;
  } | null;
  update_lock: { reason: string; since: string; expires_at: string | null } | null;
}

type Deferred = { device_id: string; reason: string | null; detail: string | null; since: string };
const deferredOf = (d: DeploymentDetail) =>
  ((d.progress as { deferred_devices?: Deferred[] }).deferred_devices ?? []) as Deferred[];

describe('device deferral with real agents', () => {
  let hub: InProcessHub;
  let fleet: AgentFleet;
  let recorder: StateRecorder;
  /** The deployment the maximum-deferral case made, which the rollback case rolls back. */
  let lastDeployment = '';

  const lockUrl = (id: string) => `${fleet.apiUrl(id)}/v1/update-lock`;
  const status = async (id: string) =>
    (await (await fetch(`${fleet.apiUrl(id)}/v1/status`)).json()) as AgentStatus;

  async function lock(id: string, body: unknown): Promise<Response> {
    return fetch(lockUrl(id), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  }

  async function push(version: string, bytes: Buffer): Promise<string> {
    return (await json<{ id: string }>(await pushModel(hub, bytes, { name: 'det', version }))).id;
  }

  async function waitStatus(
    id: string,
    predicate: (s: AgentStatus) => boolean,
  ): Promise<AgentStatus> {
    const deadline = Date.now() + 30_000;
    let last: AgentStatus | undefined;
    while (Date.now() < deadline) {
      last = await status(id);
      if (predicate(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${id}: timed out; last status ${JSON.stringify(last)}`);
  }

  const blueGreen = (model_id: string, extra: Record<string, unknown> = {}) =>
    deploy(hub, {
      model_id,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'yard',
      rules: { enabled: false },
      ...extra,
    });

  before(async () => {
    hub = await startHub({ ROLLOUT_INTERVAL_MS: '100' });
    recorder = await StateRecorder.connect(hub);
    fleet = await AgentFleet.start(hub, { SENTINEL_TELEMETRY_INTERVAL_S: '60' });
    await fleet.group('yard', [LOCKED, FREE]);
    await pinGroup(hub, 'yard', await push('1.0.0', fastModel()));
    await fleet.waitServing([LOCKED, FREE], '1.0.0');
  });
  after(async () => {
    await fleet?.stop();
    await recorder?.close();
    await hub?.stop();
  });

  it('the local API takes, shows and releases the lock, and refuses bad bodies with a message', async () => {
    const bad = await lock(LOCKED, { ttl_s: 60 });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /reason must be/);
    const taken = await lock(LOCKED, { reason: 'calibration', ttl_s: 600 });
    assert.equal(taken.status, 200);
    const shown = (await (await fetch(lockUrl(LOCKED))).json()) as { held: boolean };
    assert.equal(shown.held, true);
    assert.equal((await status(LOCKED)).update_lock?.reason, 'calibration');
    const released = await fetch(lockUrl(LOCKED), { method: 'DELETE' });
    assert.deepEqual(await released.json(), { held: false, released: true });
    assert.equal((await status(LOCKED)).update_lock, null);
  });

  it('a held lock defers the swap on its device only; a release resumes and the deployment succeeds', async () => {
    assert.equal((await lock(LOCKED, { reason: 'recording' })).status, 200);
    const v2 = await blueGreen(await push('2.0.0', goldenMismatchModel()));

    // The free device swaps at the cutover; the locked one reports deferred, serving v1.
    const deferring = await waitForDeployment(
      hub,
      v2.id,
      (d) => deferredOf(d).some((x) => x.device_id === LOCKED) && d.progress.phases.active === 1,
    );
    assert.deepEqual(
      deferredOf(deferring).map(({ device_id, reason, detail }) => ({ device_id, reason, detail })),
      [{ device_id: LOCKED, reason: 'update_locked', detail: 'recording' }],
    );
    assert.equal(await fleet.serving(FREE), '2.0.0');
    const locked = await status(LOCKED);
    assert.equal(locked.deployment?.phase, 'deferred');
    assert.equal(locked.deployment?.detail, 'recording');
    assert.equal(locked.deployment?.deferred_until, undefined, 'no maximum: until released');
    // It staged v2 (the standby slot holds it) and still serves v1.
    assert.equal(locked.slots[locked.active_slot!]?.version, '1.0.0');
    assert.ok(Object.values(locked.slots).some((s) => s?.version === '2.0.0'));

    // The deployment waits for it: neither succeeded nor failed, and the device is not timed out.
    // (A few more evaluations pass while we look again.)
    for (let i = 0; i < 5; i++) {
      const d = await getDeployment(hub, v2.id);
      assert.equal(d.status, 'in_progress', JSON.stringify(d));
      assert.equal(d.progress.phases.failed, 0);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(await fleet.serving(LOCKED), '1.0.0');

    assert.equal((await fetch(lockUrl(LOCKED), { method: 'DELETE' })).status, 200);
    const done = await waitForDeployment(hub, v2.id, (d) => d.status === 'succeeded');
    assert.equal(done.progress.phases.active, 2);
    assert.deepEqual(deferredOf(done), []);
    assert.ok(!done.events.some((e) => e.type === 'device.timeout'));
    assert.equal(await fleet.serving(LOCKED), '2.0.0');
  });

  it('the maximum deferral passes while the lock is held: the device takes the update anyway', async () => {
    assert.equal((await lock(LOCKED, { reason: 'recording' })).status, 200);
    const v3 = await blueGreen(await push('3.0.0', slowModel({ layers: 2 })), {
      max_deferral_s: 2,
    });
    lastDeployment = v3.id;
    const done = await waitForDeployment(hub, v3.id, (d) => d.status === 'succeeded');
    assert.equal(done.progress.phases.active, 2);
    assert.equal(await fleet.serving(LOCKED), '3.0.0');
    assert.equal((await status(LOCKED)).update_lock?.reason, 'recording', 'the lock is still held');
    // It did defer first, saying until when, and served v1 meanwhile.
    const reports = recorder.of(LOCKED).map((r) => r.state);
    const deferred = reports.find(
      (s) => s.deployment?.deployment_id === v3.id && s.deployment.phase === 'deferred',
    );
    assert.ok(deferred, 'the locked device never reported deferred');
    assert.equal(deferred.deployment?.reason, 'update_locked');
    assert.ok(deferred.deployment?.deferred_until, 'deferred_until with a maximum deferral');
    assert.equal(servingVersion(deferred), '2.0.0');
  });

  it('a rollback is not held by the lock: the device swaps back at once', async () => {
    const current = await getDeployment(hub, lastDeployment);
    assert.equal(current.status, 'succeeded');
    assert.equal((await status(LOCKED)).update_lock?.reason, 'recording');
    const since = Date.now();
    const rollback = await deploymentAction(hub, current.id, 'rollback');
    assert.equal(rollback.status, 200, await rollback.text());
    const back = await waitStatus(LOCKED, (s) => s.slots[s.active_slot!]?.version === '2.0.0');
    assert.equal(back.update_lock?.reason, 'recording', 'the lock is still held');
    assert.notEqual(back.deployment?.phase, 'deferred');
    // Not even for a moment (this deployment has a maximum deferral, so a deferred rollback would
    // still end, later, and only the reports tell).
    const deferredSince = recorder
      .of(LOCKED)
      .filter((r) => r.at >= since && r.state.deployment?.phase === 'deferred');
    assert.deepEqual(deferredSince, []);
    await fleet.waitServing([FREE], '2.0.0');
  });
});
