// Deployments end to end: the hub plus four real agent processes (two groups), real ONNX models.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inCohort } from '@sentinel/broker';
import { fastModel, goldenMismatchModel, slowModel } from './support/onnx-models.js';
import { spawnAgent, stopProcess, type AgentProcess } from './support/agent-fixture.js';
import { startHub, type InProcessHub } from './support/hub.js';
import { createDevice, createGroup, type DeviceCredentialsResponse } from './support/fleet.js';
import { json, pushModel } from './support/push.js';
import {
  deploy,
  deploymentAction,
  getDeployment,
  servingVersion,
  StateRecorder,
  waitForDeployment,
  type DeploymentBody,
} from './support/deployments.js';

const DEVICES = [
  ['cam-n1', 'north'],
  ['cam-n2', 'north'],
  ['cam-s1', 'south'],
  ['cam-s2', 'south'],
] as const;

interface AgentStatus {
  active_slot: string | null;
  slots: Record<string, { version: string } | null>;
  downloads: number;
}

describe('deployments with real agents', () => {
  let hub: InProcessHub;
  /** A deployment without health rules: this suite is about rollout mechanics (test/rules*.e2e judge health). */
  const rollout = (body: DeploymentBody) => deploy(hub, { ...body, rules: { enabled: false } });
  let dir: string;
  let recorder: StateRecorder;
  const credentials = new Map<string, DeviceCredentialsResponse>();
  const agents = new Map<string, AgentProcess>();
  const models: Record<string, string> = {};

  async function startAgent(id: string): Promise<void> {
    agents.set(
      id,
      await spawnAgent({
        SENTINEL_DEVICE_ID: id,
        SENTINEL_MQTT_URL: `mqtt://127.0.0.1:${hub.mqtt!.port}`,
        SENTINEL_MQTT_PASSWORD: credentials.get(id)!.credentials.password,
        SENTINEL_HUB_URL: hub.url,
        SENTINEL_DATA_DIR: join(dir, id),
        SENTINEL_API: '127.0.0.1:0',
        SENTINEL_TELEMETRY_INTERVAL_S: '60',
      }),
    );
  }

  async function status(id: string): Promise<AgentStatus> {
    return (await (await fetch(`${agents.get(id)!.apiUrl}/v1/status`)).json()) as AgentStatus;
  }

  async function serving(id: string): Promise<string | null> {
    const s = await status(id);
    return s.active_slot ? (s.slots[s.active_slot]?.version ?? null) : null;
  }

  async function waitServing(
    ids: readonly string[],
    version: string,
    timeoutMs = 30_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const versions = await Promise.all(ids.map((id) => serving(id)));
      if (versions.every((v) => v === version)) return;
      if (Date.now() > deadline)
        throw new Error(`expected ${version} on ${ids.join(',')}, got ${versions.join(',')}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  async function push(version: string, bytes: Buffer): Promise<string> {
    const body = await json<{ id: string }>(await pushModel(hub, bytes, { name: 'det', version }));
    models[version] = body.id;
    return body.id;
  }

  before(async () => {
    hub = await startHub({ ROLLOUT_INTERVAL_MS: '100' });
    dir = await mkdtemp(join(tmpdir(), 'deployments-e2e-'));
    await createGroup(hub, 'north');
    await createGroup(hub, 'south');
    for (const [id, group] of DEVICES) credentials.set(id, await createDevice(hub, id, group));
    recorder = await StateRecorder.connect(hub);
    await Promise.all(DEVICES.map(([id]) => startAgent(id)));
  });
  after(async () => {
    await Promise.all([...agents.values()].map((a) => stopProcess(a.child)));
    await recorder.close();
    await hub.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const all = DEVICES.map(([id]) => id);

  it('blue/green: v1 everywhere, then v2 staged while v1 serves, one cutover, and a rollback with no download', async () => {
    const v1 = await push('1.0.0', fastModel());
    const first = await rollout({
      model_id: v1,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'all',
    });
    await waitForDeployment(hub, first.id, (d) => d.status === 'succeeded');
    await waitServing(all, '1.0.0');

    const v2 = await push('2.0.0', slowModel());
    const started = Date.now();
    const second = await rollout({
      model_id: v2,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'all',
    });
    const done = await waitForDeployment(hub, second.id, (d) => d.status === 'succeeded');
    await waitServing(all, '2.0.0');
    assert.equal(done.progress.phases.active, 4);
    assert.deepEqual(
      done.events.map((e) => e.type),
      ['created', 'cutover', 'succeeded'],
    );

    // Each device staged v2 while it still served v1, and went active only after the cutover.
    const activeAt: number[] = [];
    for (const id of all) {
      const mine = recorder
        .of(id)
        .filter((r) => r.at >= started && r.state.deployment?.deployment_id === second.id);
      const staged = mine.find((r) => r.state.deployment?.phase === 'staged');
      assert.ok(staged, `${id} never reported staged`);
      assert.equal(servingVersion(staged.state), '1.0.0', `${id} served v1 while staged`);
      const active = mine.find((r) => r.state.deployment?.phase === 'active');
      assert.ok(active && servingVersion(active.state) === '2.0.0');
      activeAt.push(active.at);
    }
    // Every device staged before any device swapped: the swap waited for the fleet.
    const lastStaged = Math.max(
      ...all.map(
        (id) =>
          recorder
            .of(id)
            .find(
              (r) =>
                r.at >= started &&
                r.state.deployment?.deployment_id === second.id &&
                r.state.deployment.phase === 'staged',
            )!.at,
      ),
    );
    assert.ok(Math.min(...activeAt) >= lastStaged);
    console.log(
      `# blue/green cutover spread over 4 devices: ${Math.max(...activeAt) - Math.min(...activeAt)} ms`,
    );

    const downloads = await Promise.all(all.map(async (id) => (await status(id)).downloads));
    const rollback = await deploymentAction(hub, second.id, 'rollback');
    assert.equal(rollback.status, 200, await rollback.text());
    await waitServing(all, '1.0.0');
    assert.deepEqual(
      await Promise.all(all.map(async (id) => (await status(id)).downloads)),
      downloads,
    );
    const again = await deploymentAction(hub, second.id, 'rollback');
    assert.equal(again.status, 409);
    // The devices' reports of the rollback are still recorded after the deployment ended.
    const after = await waitForDeployment(
      hub,
      second.id,
      (d) => d.progress.phases.rolled_back === 4,
    );
    assert.equal(after.status, 'rolled_back');
    assert.equal(after.events.filter((e) => e.type === 'rolled_back').length, 1);
  });

  it('canary 50 -> 100: exactly the cohort runs v3 after the first step, then everyone', async () => {
    const v3 = await push('3.0.0', goldenMismatchModel());
    const canary = await rollout({
      model_id: v3,
      environment: 'production',
      deployment_type: 'canary',
      target: 'all',
      canary: { steps: [50, 100], step_interval_s: 3600 },
    });
    const cohort = all.filter((id) => inCohort(id, { percent: 50, salt: canary.canary!.salt }));
    const rest = all.filter((id) => !cohort.includes(id));
    await waitForDeployment(hub, canary.id, (d) => d.progress.phases.active === cohort.length);
    await waitServing(cohort, '3.0.0');
    await waitServing(rest, '1.0.0');
    const step1 = await getDeployment(hub, canary.id);
    assert.equal(step1.status, 'in_progress');
    assert.equal(step1.progress.participating, cohort.length);

    assert.equal((await deploymentAction(hub, canary.id, 'promote')).status, 200);
    await waitForDeployment(hub, canary.id, (d) => d.status === 'succeeded');
    await waitServing(all, '3.0.0');
  });

  it('a corrupt artifact: every device fails with hash_mismatch and stays put; the deployment fails', async () => {
    // A model whose stored bytes are damaged after the push: what devices download no longer
    // matches the sha256 the registry recorded.
    const bytes = slowModel({ rows: 8 });
    const pushed = await pushModel(hub, bytes, { name: 'det', version: '5.0.0' });
    assert.equal(pushed.status, 201);
    const body = await json<{ id: string; sha256: string }>(pushed);
    const stored = join(hub.dataDir, 'artifacts', 'sha256', body.sha256.slice(0, 2), body.sha256);
    const file = await open(stored, 'r+');
    await file.write(Buffer.from('CORRUPTED'), 0, 9, 100);
    await file.close();

    const bad = await rollout({
      model_id: body.id,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'all',
    });
    const failed = await waitForDeployment(hub, bad.id, (d) => d.status === 'failed');
    assert.match(failed.status_reason ?? '', /staging_failed/);
    assert.deepEqual(
      failed.progress.failed_devices.map((f) => [f.device_id, f.reason]).sort(),
      all.map((id) => [id, 'hash_mismatch']).sort(),
    );
    await waitServing(all, '3.0.0');
  });

  it('an agent offline during a deployment gets the desired state when it comes back', async () => {
    const v6 = await push('6.0.0', slowModel({ layers: 2 }));
    await stopProcess(agents.get('cam-s2')!.child);
    const online = all.filter((id) => id !== 'cam-s2');
    const d = await rollout({
      model_id: v6,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'all',
    });
    await waitForDeployment(hub, d.id, (x) => x.status === 'succeeded');
    await waitServing(online, '6.0.0');
    await startAgent('cam-s2');
    await waitServing(['cam-s2'], '6.0.0');
  });

  it('refuses a second active deployment on a group unless it supersedes the first', async () => {
    const v7 = await push('7.0.0', slowModel({ layers: 3 }));
    const first = await rollout({
      model_id: v7,
      environment: 'production',
      deployment_type: 'canary',
      target: 'north',
      canary: { steps: [50, 100], step_interval_s: 3600 },
    });
    const response = await fetch(`${hub.url}/api/v1/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model_id: v7,
        environment: 'production',
        deployment_type: 'blue-green',
        target: 'all',
      }),
    });
    assert.equal(response.status, 409);
    assert.match(
      ((await response.json()) as { message: string }).message,
      /group north already has an active deployment/,
    );
    const second = await rollout({
      model_id: v7,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'all',
      supersede: true,
    });
    assert.equal((await getDeployment(hub, first.id)).status, 'superseded');
    await waitForDeployment(hub, second.id, (x) => x.status === 'succeeded');
    await waitServing(all, '7.0.0');
  });
});
