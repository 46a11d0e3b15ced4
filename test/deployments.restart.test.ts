// A hub killed with -9 in the middle of a canary rollout, started again on the same data: the
// rollout continues from the database and completes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inCohort } from '@sentinel/broker';
import { fastModel, slowModel } from './support/onnx-models.js';
import { spawnAgent, stopProcess, type AgentProcess } from './support/agent-fixture.js';
import { spawnHub, type HubProcess } from './support/hub.js';
import { freePort } from './support/mosquitto.js';
import { createDevice, createGroup } from './support/fleet.js';
import { json, pushModel } from './support/push.js';
import { deploy, getDeployment, waitForDeployment } from './support/deployments.js';

describe('hub restarted mid-rollout', () => {
  let hub: HubProcess;
  let dir: string;
  let env: Record<string, string>;
  const agents: AgentProcess[] = [];
  const ids = ['cam-r1', 'cam-r2', 'cam-r3', 'cam-r4'];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deployments-restart-'));
    env = {
      DATA_DIR: join(dir, 'hub'),
      PORT: String(await freePort()),
      MQTT_PORT: String(await freePort()),
      MQTT_WS_PORT: '0',
      ADMIN_TOKEN: `restart-admin-${process.pid}-0123456789`,
      ROLLOUT_INTERVAL_MS: '100',
      LOG_LEVEL: 'warn',
    };
    hub = await spawnHub(env);
  });
  after(async () => {
    await Promise.all(agents.map((a) => stopProcess(a.child)));
    await hub.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('continues the canary from the database and completes it', async () => {
    await createGroup(hub, 'yard');
    for (const id of ids) {
      const device = await createDevice(hub, id, 'yard');
      agents.push(
        await spawnAgent({
          SENTINEL_DEVICE_ID: id,
          SENTINEL_MQTT_URL: `mqtt://127.0.0.1:${env.MQTT_PORT}`,
          SENTINEL_MQTT_PASSWORD: device.credentials.password,
          SENTINEL_HUB_URL: hub.url,
          SENTINEL_DATA_DIR: join(dir, id),
          SENTINEL_API: '127.0.0.1:0',
        }),
      );
    }
    const v1 = await json<{ id: string }>(
      await pushModel(hub, fastModel(), { name: 'det', version: '1.0.0' }),
    );
    const first = await deploy(hub, {
      model_id: v1.id,
      environment: 'production',
      deployment_type: 'blue-green',
      rules: { enabled: false }, // rollout mechanics here; test/rules*.e2e judge health
      target: 'yard',
    });
    await waitForDeployment(
      hub,
      first.id,
      (d) => d.status === 'succeeded' && d.progress.phases.active === 4,
    );

    const v2 = await json<{ id: string }>(
      await pushModel(hub, slowModel(), { name: 'det', version: '2.0.0' }),
    );
    const canary = await deploy(hub, {
      model_id: v2.id,
      environment: 'production',
      deployment_type: 'canary',
      target: 'yard',
      canary: { steps: [50, 100], step_interval_s: 4 },
      // Steps follow the interval alone here (no telemetry): this test is about the restart.
      rules: { enabled: false },
    });
    const cohort = ids.filter((id) => inCohort(id, { percent: 50, salt: canary.canary!.salt }));
    await waitForDeployment(hub, canary.id, (d) => d.progress.phases.active === cohort.length);

    const stepOne = await getDeployment(hub, canary.id);
    assert.equal(stepOne.canary!.step_index, 0, 'killed before the second step');
    await hub.kill();
    const killedAt = Date.now();
    hub = await spawnHub(env);
    const done = await waitForDeployment(hub, canary.id, (d) => d.status === 'succeeded', 90_000);
    assert.equal(done.progress.phases.active, 4);
    assert.deepEqual(
      done.events.map((e) => e.type),
      ['created', 'step', 'succeeded'],
    );
    const step = done.events.find((e) => e.type === 'step') as unknown as { at: string };
    assert.ok(Date.parse(step.at) >= killedAt, 'the second step was taken by the restarted hub');
    for (const agent of agents) {
      const status = (await (await fetch(`${agent.apiUrl}/v1/status`)).json()) as {
        active_slot: string;
        slots: Record<string, { version: string }>;
      };
      assert.equal(status.slots[status.active_slot]!.version, '2.0.0');
    }
    assert.equal((await getDeployment(hub, first.id)).status, 'succeeded');
  });
});
