// Abort criteria with real agents: a version whose bytes fail verification on every device stops
// on the criterion (not on the staging rule), rolls back or pauses as asked, and a resume starts
// the criteria afresh.
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentFleet } from './support/agent-fleet.js';
import {
  deploy,
  deploymentAction,
  getDeployment,
  waitForDeployment,
} from './support/deployments.js';
import { pinGroup } from './support/fleet.js';
import { startHub, type InProcessHub } from './support/hub.js';
import { fastModel, slowModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';

const DEVICES = ['cam-a1', 'cam-a2', 'cam-a3', 'cam-a4'];

describe('abort criteria with real agents', () => {
  let hub: InProcessHub;
  let fleet: AgentFleet;

  /** A version whose stored bytes no longer match the sha256 the registry recorded. */
  async function corruptVersion(version: string, rows: number): Promise<string> {
    const pushed = await json<{ id: string; sha256: string }>(
      await pushModel(hub, slowModel({ rows }), { name: 'det', version }),
    );
    const sha = pushed.sha256;
    const file = await open(join(hub.dataDir, 'artifacts', 'sha256', sha.slice(0, 2), sha), 'r+');
    await file.write(Buffer.from('CORRUPTED'), 0, 9, 100);
    await file.close();
    return pushed.id;
  }

  before(async () => {
    hub = await startHub({ ROLLOUT_INTERVAL_MS: '100' });
    fleet = await AgentFleet.start(hub, { SENTINEL_TELEMETRY_INTERVAL_S: '60' });
    await fleet.group('yard', DEVICES);
    const v1 = await json<{ id: string }>(
      await pushModel(hub, fastModel(), { name: 'det', version: '1.0.0' }),
    );
    await pinGroup(hub, 'yard', v1.id);
    await fleet.waitServing(DEVICES, '1.0.0');
  });
  after(async () => {
    await fleet?.stop();
    await hub?.stop();
  });

  const base = {
    environment: 'production',
    target: 'yard',
    rules: { enabled: false },
    // Only the abort criteria may stop these deployments.
    max_failure_share: 1,
    min_staged_share: 0,
  };

  it('fails on the criterion once enough devices are done, with its figures, and devices stay on 1.0.0', async () => {
    const bad = await corruptVersion('2.0.0', 8);
    const created = await deploy(hub, {
      ...base,
      model_id: bad,
      deployment_type: 'blue-green',
      abort: {
        criteria: [{ failure_type: 'verification', threshold_percent: 75, min_devices_done: 4 }],
        action: 'rollback',
      },
    });
    const failed = await waitForDeployment(hub, created.id, (d) => d.status === 'failed');
    assert.match(
      failed.status_reason ?? '',
      /^abort_criteria: abort criteria: 4 of 4 devices done failed with verification \(100 %, threshold 75 % after 4 done\)/,
    );
    assert.deepEqual(
      failed.progress.failed_devices.map((d) => d.reason),
      DEVICES.map(() => 'hash_mismatch'),
    );
    await fleet.waitServing(DEVICES, '1.0.0');
  });

  it('pauses instead when asked, and a resume starts the criteria afresh', async () => {
    const bad = await corruptVersion('3.0.0', 9);
    const created = await deploy(hub, {
      ...base,
      model_id: bad,
      deployment_type: 'canary',
      canary: { steps: [100] },
      abort: {
        criteria: [{ failure_type: 'any', threshold_percent: 50, min_devices_done: 2 }],
        action: 'pause',
      },
    });
    const paused = await waitForDeployment(hub, created.id, (d) => d.status === 'paused');
    assert.match(
      paused.status_reason ?? '',
      /abort criteria: \d of \d devices done failed with any/,
    );
    const event = paused.events.find((e) => e.to_status === 'paused');
    assert.equal(event?.actor, 'hub');

    assert.equal((await deploymentAction(hub, created.id, 'resume')).status, 200);
    // The failures before the resume no longer count: it is not paused again at once.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const resumed = await getDeployment(hub, created.id);
    assert.notEqual(resumed.status, 'paused', resumed.status_reason ?? '');
    assert.equal((await deploymentAction(hub, created.id, 'rollback')).status, 200);
    await fleet.waitServing(DEVICES, '1.0.0');
  });

  it('refuses criteria it cannot use, with a message', async () => {
    const response = await fetch(`${hub.url}/api/v1/deployments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        ...base,
        model_id: 'det@1.0.0',
        deployment_type: 'blue-green',
        abort: {
          criteria: [
            { failure_type: 'timeout', threshold_percent: 10 },
            { failure_type: 'timeout', threshold_percent: 20 },
          ],
        },
      }),
    });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { message: string }).message, /timeout twice/);
    for (const abort of [
      { criteria: [] },
      { criteria: [{ failure_type: 'cosmic_rays', threshold_percent: 10 }] },
      { criteria: [{ failure_type: 'timeout', threshold_percent: 0 }] },
      { criteria: [{ failure_type: 'timeout', threshold_percent: 10 }], action: 'explode' },
    ]) {
      const refused = await fetch(`${hub.url}/api/v1/deployments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${hub.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          ...base,
          model_id: 'det@1.0.0',
          deployment_type: 'blue-green',
          abort,
        }),
      });
      assert.equal(refused.status, 400, JSON.stringify(abort));
    }
  });
});
