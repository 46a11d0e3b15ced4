// Two named models on one real agent (docs/protocol.md 6.6), deployed and rolled back
// independently through the hub: the default `det` and a `classifier`, each by its own blue/green
// deployment to the same group at once; rolling back the classifier returns only it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnAgent, stopProcess, type AgentProcess } from './support/agent-fixture.js';
import {
  deploy,
  deploymentAction,
  getDeployment,
  waitForDeployment,
} from './support/deployments.js';
import { createDevice, createGroup, pinGroup } from './support/fleet.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel, fastTwinModel, slowModel, slowTwinModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';

interface SlotStatus {
  version: string;
}
interface ModelStatus {
  active_slot: 'blue' | 'green' | null;
  slots: { blue: SlotStatus | null; green: SlotStatus | null };
}
type AgentStatus = ModelStatus & { models?: Record<string, ModelStatus> };

const servingOf = (model: ModelStatus | undefined): string | null =>
  model?.active_slot ? (model.slots[model.active_slot]?.version ?? null) : null;

describe('two named models on one real agent', () => {
  let hub: InProcessHub;
  let agent: AgentProcess;
  let dir: string;
  const ids: Record<string, string> = {};

  const status = async (): Promise<AgentStatus> =>
    (await (await fetch(`${agent.apiUrl}/v1/status`)).json()) as AgentStatus;
  /** Waits until the agent serves `det` (default) and `cls` (classifier) at these versions. */
  const waitServing = async (det: string, cls: string) => {
    const deadline = Date.now() + 45_000;
    let last: AgentStatus | null = null;
    while (Date.now() < deadline) {
      last = await status().catch(() => null);
      if (last && servingOf(last) === det && servingOf(last.models?.classifier) === cls) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(
      `expected det ${det} and classifier ${cls}, agent says ${JSON.stringify(last)}`,
    );
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'named-agent-'));
    hub = await startHub({ ROLLOUT_INTERVAL_MS: '100' });
    await createGroup(hub, 'yard');
    const device = await createDevice(hub, 'cam-a1', 'yard');
    const push = async (key: string, file: Buffer, name: string, version: string) => {
      ids[key] = (await json<{ id: string }>(await pushModel(hub, file, { name, version }))).id;
    };
    await push('det1', fastModel(), 'det', '1.0.0');
    await push('det2', slowModel(), 'det', '2.0.0');
    await push('cls1', fastTwinModel(), 'cls', '1.0.0');
    await push('cls2', slowTwinModel(), 'cls', '2.0.0');
    await pinGroup(hub, 'yard', ids.det1!);
    const named = await api(hub)('/api/v1/groups/yard/desired?serve_as=classifier', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model_id: ids.cls1 }),
    });
    assert.equal(named.status, 200, await named.clone().text());
    agent = await spawnAgent({
      SENTINEL_DEVICE_ID: 'cam-a1',
      SENTINEL_MQTT_URL: `mqtt://127.0.0.1:${hub.mqtt!.port}`,
      SENTINEL_MQTT_PASSWORD: device.credentials.password,
      SENTINEL_HUB_URL: hub.url,
      SENTINEL_DATA_DIR: join(dir, 'agent'),
      SENTINEL_API: '127.0.0.1:0',
    });
  });

  after(async () => {
    if (agent) await stopProcess(agent.child);
    await hub?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('deploys both at once and rolls back the classifier alone', async () => {
    await waitServing('1.0.0', '1.0.0');
    const body = {
      environment: 'production',
      deployment_type: 'blue-green' as const,
      target: 'yard',
      rules: { enabled: false },
    };
    const det = await deploy(hub, { ...body, model_id: ids.det2! });
    const cls = await deploy(hub, { ...body, model_id: ids.cls2!, serve_as: 'classifier' });
    await waitForDeployment(hub, det.id, (d) => d.status === 'succeeded');
    await waitForDeployment(hub, cls.id, (d) => d.status === 'succeeded');
    await waitServing('2.0.0', '2.0.0');
    const shown = await json<{ models: { name: string; deployment: { deployment_id: string } }[] }>(
      await api(hub)('/api/v1/devices/cam-a1'),
    );
    assert.equal(
      shown.models.find((m) => m.name === 'classifier')?.deployment.deployment_id,
      cls.id,
    );

    const rolled = await deploymentAction(hub, cls.id, 'rollback');
    assert.equal(rolled.status, 200, await rolled.clone().text());
    await waitServing('2.0.0', '1.0.0');
    assert.equal((await getDeployment(hub, det.id)).status, 'succeeded');
    // Some time later the default model still serves the detector's new version.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(servingOf(await status()), '2.0.0');
  });
});
