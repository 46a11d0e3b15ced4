// A device skipped as incompatible keeps its model across a hub killed with -9 and started again on
// the same data: its hold is a stored desired state the restarted hub publishes again, so an agent
// that starts afresh (no local state) still gets its old model, not the group's new one.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnAgent, stopProcess, type AgentProcess } from './support/agent-fixture.js';
import { deploy, waitForDeployment } from './support/deployments.js';
import { createDevice, createGroup, pinGroup } from './support/fleet.js';
import { spawnHub, type HubProcess } from './support/hub.js';
import { freePort } from './support/mosquitto.js';
import { fastModel, slowModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';

describe('a skipped device across a hub restart', () => {
  let hub: HubProcess;
  let dir: string;
  let env: Record<string, string>;
  const agents = new Map<string, AgentProcess>();
  const passwords = new Map<string, string>();
  const labels: Record<string, string> = { 'cam-h1': 'camera:ip67', 'cam-h2': 'site:berlin' };

  const startAgent = async (id: string, dataDir: string) => {
    agents.set(
      id,
      await spawnAgent({
        SENTINEL_DEVICE_ID: id,
        SENTINEL_MQTT_URL: `mqtt://127.0.0.1:${env.MQTT_PORT}`,
        SENTINEL_MQTT_PASSWORD: passwords.get(id)!,
        SENTINEL_HUB_URL: hub.url,
        SENTINEL_DATA_DIR: join(dir, dataDir),
        SENTINEL_API: '127.0.0.1:0',
        SENTINEL_LABELS: labels[id]!,
      }),
    );
  };
  const serving = async (id: string): Promise<string | null> => {
    const status = (await (await fetch(`${agents.get(id)!.apiUrl}/v1/status`)).json()) as {
      active_slot: string | null;
      slots: Record<string, { version: string } | null>;
    };
    return status.active_slot ? (status.slots[status.active_slot]?.version ?? null) : null;
  };
  const waitServing = async (id: string, version: string) => {
    const deadline = Date.now() + 30_000;
    let last: string | null = null;
    while (Date.now() < deadline) {
      last = await serving(id).catch(() => null);
      if (last === version) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${id}: expected ${version}, serves ${last}`);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'compat-restart-'));
    env = {
      DATA_DIR: join(dir, 'hub'),
      PORT: String(await freePort()),
      MQTT_PORT: String(await freePort()),
      MQTT_WS_PORT: '0',
      ADMIN_TOKEN: `compat-admin-${process.pid}-0123456789`,
      ROLLOUT_INTERVAL_MS: '100',
      LOG_LEVEL: 'warn',
    };
    hub = await spawnHub(env);
  });
  after(async () => {
    await Promise.all([...agents.values()].map((a) => stopProcess(a.child)));
    await hub.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the restarted hub keeps the skipped device on its model', async () => {
    await createGroup(hub, 'yard');
    for (const id of Object.keys(labels)) {
      passwords.set(id, (await createDevice(hub, id, 'yard')).credentials.password);
      await startAgent(id, id);
    }
    const v1 = await json<{ id: string }>(
      await pushModel(hub, fastModel(), { name: 'det', version: '1.0.0' }),
    );
    const v2 = await json<{ id: string }>(
      await pushModel(hub, slowModel(), {
        name: 'det',
        version: '2.0.0',
        metadata: JSON.stringify({ requirements: { labels: ['camera:ip67'] } }),
      }),
    );
    await pinGroup(hub, 'yard', v1.id);
    await waitServing('cam-h1', '1.0.0');
    await waitServing('cam-h2', '1.0.0');
    const created = await deploy(hub, {
      model_id: v2.id,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'yard',
      rules: { enabled: false },
    });
    const done = await waitForDeployment(hub, created.id, (d) => d.status === 'succeeded');
    assert.deepEqual(
      (
        done.progress as unknown as { skipped_devices: { device_id: string }[] }
      ).skipped_devices.map((s) => s.device_id),
      ['cam-h2'],
    );
    await waitServing('cam-h1', '2.0.0');

    await hub.kill();
    hub = await spawnHub(env);
    // A fresh agent (empty data directory) learns everything from the retained states.
    await stopProcess(agents.get('cam-h2')!.child);
    await startAgent('cam-h2', 'cam-h2-fresh');
    await waitServing('cam-h2', '1.0.0');
    await waitServing('cam-h1', '2.0.0');
  });
});
