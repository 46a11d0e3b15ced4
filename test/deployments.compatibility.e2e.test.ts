// Compatibility before assignment with real agents: each reports its capabilities (onnxruntime,
// opset, memory, labels), a model declares requirements, and a deployment skips the devices that
// cannot run it (reason incompatible, per device), which keep their model on the wire, while the
// others get it; one no device can run is refused. Later deployments and rollbacks judge again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AgentFleet } from './support/agent-fleet.js';
import {
  deploy,
  deploymentAction,
  getDeployment,
  StateRecorder,
  waitForDeployment,
  type DeploymentDetail,
} from './support/deployments.js';
import { pinGroup } from './support/fleet.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel, slowModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';

const FIT = ['cam-k1', 'cam-k2'];
const SMALL = 'cam-k3';
const DEVICES = [...FIT, SMALL];
const NEEDS_IP67 = { labels: ['camera:ip67'], min_memory_mb: 512 };

type Skipped = { device_id: string; reason: string; detail: string };
const skippedOf = (d: DeploymentDetail) =>
  (d.progress as unknown as { skipped_devices: Skipped[] }).skipped_devices;

describe('compatibility before assignment with real agents', () => {
  let hub: InProcessHub;
  let fleet: AgentFleet;
  let states: StateRecorder;
  const versions: Record<string, string> = {};

  const device = async (id: string) => {
    const response = await api(hub)(`/api/v1/devices/${id}`);
    assert.equal(response.status, 200);
    return (await response.json()) as {
      capabilities: Record<string, unknown> | null;
      desired: { model: { version: string } | null } | null;
    };
  };
  const base = {
    environment: 'production',
    target: 'yard',
    deployment_type: 'blue-green' as const,
    rules: { enabled: false },
    observe_s: 0,
  };

  before(async () => {
    hub = await startHub({ ROLLOUT_INTERVAL_MS: '100' });
    fleet = await AgentFleet.start(hub, { SENTINEL_TELEMETRY_INTERVAL_S: '60' });
    states = await StateRecorder.connect(hub);
    await fleet.group('yard', DEVICES, {
      'cam-k1': { SENTINEL_LABELS: 'camera:ip67,site:berlin' },
      'cam-k2': { SENTINEL_LABELS: 'camera:ip67', SENTINEL_MEMORY_MB: '2048' },
      [SMALL]: { SENTINEL_LABELS: 'site:berlin', SENTINEL_MEMORY_MB: '256' },
    });
    for (const [version, bytes, requirements] of [
      ['1.0.0', fastModel(), null],
      ['2.0.0', slowModel({ rows: 4 }), NEEDS_IP67],
      ['3.0.0', slowModel({ rows: 5 }), null],
      ['4.0.0', slowModel({ rows: 6 }), { labels: ['camera:thermal'] }],
    ] as const) {
      const response = await pushModel(hub, bytes, {
        name: 'det',
        version,
        ...(requirements ? { metadata: JSON.stringify({ requirements }) } : {}),
      });
      assert.equal(response.status, 201, await response.clone().text());
      versions[version] = (await json<{ id: string }>(response)).id;
    }
    await pinGroup(hub, 'yard', versions['1.0.0']!);
    await fleet.waitServing(DEVICES, '1.0.0');
  });
  after(async () => {
    await states?.close();
    await fleet?.stop();
    await hub?.stop();
  });

  it('the hub keeps what each agent reports it can run', async () => {
    const deadline = Date.now() + 20_000;
    let capabilities: Record<string, unknown> | null = null;
    while (Date.now() < deadline) {
      capabilities = (await device(SMALL)).capabilities;
      if (capabilities) break;
      await new Promise((r) => setTimeout(r, 150));
    }
    assert.ok(capabilities, 'capabilities reported');
    assert.equal(capabilities.memory_mb, 256);
    assert.deepEqual(capabilities.labels, ['site:berlin']);
    assert.deepEqual(capabilities.execution_providers, ['cpu']);
    assert.equal(capabilities.arch, process.arch);
    assert.match(String(capabilities.ort_version), /^1\.\d+\.\d+/);
    assert.ok(Number(capabilities.max_opset) >= 13, 'loads the test models (opset 13)');
  });

  it('skips the incompatible device with its reason; it keeps its model, the others get the new one', async () => {
    const created = await deploy(hub, { ...base, model_id: versions['2.0.0']! });
    assert.deepEqual(skippedOf(await getDeployment(hub, created.id)), [
      {
        device_id: SMALL,
        reason: 'incompatible',
        detail: 'label camera:ip67 missing; memory 256 MiB < 512 MiB',
      },
    ]);
    const done = await waitForDeployment(hub, created.id, (d) => d.status === 'succeeded');
    assert.equal(done.progress.targets, FIT.length, 'the skipped device is not a target');
    assert.deepEqual(done.progress.failed_devices, []);
    assert.deepEqual(skippedOf(done), [
      {
        device_id: SMALL,
        reason: 'incompatible',
        detail: 'label camera:ip67 missing; memory 256 MiB < 512 MiB',
      },
    ]);
    await fleet.waitServing(FIT, '2.0.0');
    assert.equal(await fleet.serving(SMALL), '1.0.0');
    // Kept on the wire: its own desired state names its old model (the hub re-publishes it at start).
    assert.equal((await device(SMALL)).desired?.model?.version, '1.0.0');
    // It never took part: no progress for the deployment, no slot with the new model.
    for (const { state } of states.of(SMALL)) {
      assert.notEqual(state.deployment?.deployment_id, created.id);
      for (const slot of Object.values(state.slots ?? {})) assert.notEqual(slot?.version, '2.0.0');
    }
  });

  it('refuses a deployment no target device can run, naming why', async () => {
    const response = await api(hub)('/api/v1/deployments', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...base, model_id: versions['4.0.0']! }),
    });
    assert.equal(response.status, 409);
    const body = (await response.json()) as { error: string; message: string };
    assert.equal(body.error, 'INCOMPATIBLE');
    assert.match(
      body.message,
      /^no target device is compatible with the model \(cam-k1: label camera:thermal missing; /,
    );
    const list = await json<{ items: unknown[]; total: number }>(
      await api(hub)(`/api/v1/deployments?model_id=${versions['4.0.0']!}`),
    );
    assert.equal(list.total, 0, 'nothing was created');
  });

  it('the next deployment judges again: a model every device can run reaches the held one too', async () => {
    const created = await deploy(hub, { ...base, model_id: versions['3.0.0']! });
    assert.deepEqual(skippedOf(await getDeployment(hub, created.id)), []);
    await waitForDeployment(hub, created.id, (d) => d.status === 'succeeded');
    await fleet.waitServing(DEVICES, '3.0.0');
    // It follows the deployment with its own fallback (1.0.0), not the group's (2.0.0).
    const own = (await device(SMALL)).desired as {
      deployment_id: string;
      previous: { version: string } | null;
    } | null;
    assert.equal(own?.deployment_id, created.id);
    assert.equal(own?.previous?.version, '1.0.0');

    // A rollback returns the group to 2.0.0, which the small device cannot run: it goes back to
    // what it ran before, 1.0.0.
    assert.equal((await deploymentAction(hub, created.id, 'rollback')).status, 200);
    await fleet.waitServing(FIT, '2.0.0');
    await fleet.waitServing([SMALL], '1.0.0');
    for (const { state } of states.of(SMALL)) {
      for (const slot of Object.values(state.slots ?? {})) assert.notEqual(slot?.version, '2.0.0');
    }
  });

  it('a scheduled deployment reaches a held device only when it starts', async () => {
    // The group runs 2.0.0 again; the small device 1.0.0, by its own state.
    const since = Date.now();
    const startAt = new Date(Date.now() + 3000);
    const created = await deploy(hub, {
      ...base,
      model_id: versions['3.0.0']!,
      start_at: startAt.toISOString(),
    });
    assert.equal(created.status, 'pending');
    assert.deepEqual(skippedOf(await getDeployment(hub, created.id)), []);
    assert.equal(await fleet.serving(SMALL), '1.0.0');
    await waitForDeployment(hub, created.id, (d) => d.status === 'succeeded');
    await fleet.waitServing(DEVICES, '3.0.0');
    // Staged beside its own model, never the group's 2.0.0, in any slot.
    for (const { at, state } of states.of(SMALL)) {
      if (at < since) continue;
      for (const slot of Object.values(state.slots ?? {})) assert.notEqual(slot?.version, '2.0.0');
    }
  });

  it('a canary counts only the devices it reaches', async () => {
    const created = await deploy(hub, {
      ...base,
      model_id: versions['2.0.0']!,
      deployment_type: 'canary',
      canary: { steps: [50, 100], step_interval_s: 1 },
    });
    const done = await waitForDeployment(hub, created.id, (d) => d.status === 'succeeded');
    assert.deepEqual(
      skippedOf(done).map((s) => s.device_id),
      [SMALL],
    );
    assert.equal(done.progress.targets, FIT.length);
    assert.equal(done.progress.phases.active, FIT.length);
    await fleet.waitServing(FIT, '2.0.0');
    assert.equal(await fleet.serving(SMALL), '3.0.0', 'it keeps what it ran');
  });
});
