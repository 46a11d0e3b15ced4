// The deployments API without agents: validation, conflicts, actions, and one rollback even when
// two hubs on one PostgreSQL are asked at the same moment.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fastModel, goldenMismatchModel, slowModel } from './support/onnx-models.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { createGroup } from './support/fleet.js';
import { json, pushModel } from './support/push.js';
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from './support/postgres.js';
import {
  deploy,
  deploymentAction,
  getDeployment,
  waitForDeployment,
} from './support/deployments.js';

async function post(
  hub: InProcessHub,
  path: string,
  body: unknown,
): Promise<{ status: number; body: { message?: string } }> {
  const response = await api(hub)(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { message?: string } };
}

describe('deployments API (embedded database)', () => {
  let hub: InProcessHub;
  let v1: string;
  let v2: string;

  before(async () => {
    hub = await startHub({ ROLLOUT_INTERVAL_MS: '100' });
    await createGroup(hub, 'lobby', 'production');
    await createGroup(hub, 'lab', 'staging');
    v1 = (
      await json<{ id: string }>(
        await pushModel(hub, fastModel(), { name: 'det', version: '1.0.0' }),
      )
    ).id;
    v2 = (
      await json<{ id: string }>(
        await pushModel(hub, slowModel(), { name: 'det', version: '2.0.0' }),
      )
    ).id;
  });
  after(async () => {
    await hub.stop();
  });

  const base = () => ({
    model_id: v1,
    environment: 'production',
    deployment_type: 'blue-green' as const,
    target: 'lobby',
  });

  for (const [label, change, status, pattern] of [
    ['an unknown deployment type', { deployment_type: 'big-bang' }, 400, /deployment_type/],
    [
      'canary steps that do not end at 100',
      { deployment_type: 'canary', canary: { steps: [10, 50] } },
      400,
      /end at 100/,
    ],
    [
      'decreasing canary steps',
      { deployment_type: 'canary', canary: { steps: [50, 10, 100] } },
      400,
      /increase/,
    ],
    [
      'canary options on blue-green',
      { canary: { steps: [100] } },
      400,
      /only to deployment_type canary/,
    ],
    ['a share above 1', { min_staged_share: 1.5 }, 400, /min_staged_share/],
    ['an unknown model', { model_id: '00000000-0000-4000-8000-000000000000' }, 404, /not found/],
    ['an unknown group', { target: 'nowhere' }, 404, /group nowhere not found/],
    [
      'a group of another environment',
      { target: 'lab' },
      400,
      /group lab is in environment staging, not production/,
    ],
    [
      'an environment without groups',
      { environment: 'mars', target: 'all' },
      400,
      /environment mars has no device groups/,
    ],
  ] as const) {
    it(`refuses ${label} with ${status}`, async () => {
      const result = await post(hub, '/api/v1/deployments', { ...base(), ...change });
      assert.equal(result.status, status, JSON.stringify(result.body));
      assert.match(result.body.message ?? '', pattern);
    });
  }

  it('a group with no devices cuts over and succeeds at once; the events tell the story', async () => {
    const d = await deploy(hub, base());
    const done = await waitForDeployment(hub, d.id, (x) => x.status === 'succeeded');
    assert.deepEqual(
      done.events.map((e) => [e.type, e.from_status, e.to_status]),
      [
        ['created', null, 'staging'],
        ['cutover', 'staging', 'in_progress'],
        ['succeeded', 'in_progress', 'succeeded'],
      ],
    );
    assert.equal(done.events[0]!.actor, 'token:bootstrap-admin');
    assert.equal(done.progress.targets, 0);
    const group = (await (await api(hub)('/api/v1/groups/lobby')).json()) as {
      desired: { deployment_id: string; activate: string; model: { id: string } };
    };
    assert.equal(group.desired.deployment_id, d.id);
    assert.equal(group.desired.activate, 'new');
    assert.equal(group.desired.model.id, v1);
    // Nothing to roll back to: the group ran no model before.
    const rollback = await deploymentAction(hub, d.id, 'rollback');
    assert.equal(rollback.status, 409);
    assert.match(
      ((await rollback.json()) as { message: string }).message,
      /nothing to roll back to/,
    );
  });

  it('pause, resume and promote follow the state machine; deleting a deployed model is 409', async () => {
    const d = await deploy(hub, {
      ...base(),
      model_id: v2,
      deployment_type: 'canary',
      canary: { steps: [50, 100], step_interval_s: 3600 },
    });
    assert.equal(d.status, 'in_progress');
    assert.equal((await deploymentAction(hub, d.id, 'resume')).status, 409);
    assert.equal((await deploymentAction(hub, d.id, 'pause')).status, 200);
    assert.equal((await getDeployment(hub, d.id)).status, 'paused');
    assert.equal((await deploymentAction(hub, d.id, 'promote')).status, 409);
    assert.equal((await deploymentAction(hub, d.id, 'resume')).status, 200);
    assert.equal((await deploymentAction(hub, d.id, 'promote')).status, 200);
    const promoted = await getDeployment(hub, d.id);
    assert.equal(promoted.canary!.step_index, 1);
    await waitForDeployment(hub, d.id, (x) => x.status === 'succeeded');
    assert.equal((await deploymentAction(hub, d.id, 'promote')).status, 409);
    const list = (await (
      await api(hub)(`/api/v1/deployments?group=lobby&status=succeeded`)
    ).json()) as { items: { id: string }[]; total: number };
    assert.deepEqual(list.items.map((i) => i.id).slice(0, 1), [d.id]);
    assert.equal(list.total, 2);
    const remove = await api(hub)(`/api/v1/models/${v2}`, { method: 'DELETE' });
    assert.equal(remove.status, 409);

    const rolled = await deploymentAction(hub, d.id, 'rollback');
    assert.equal(rolled.status, 200, await rolled.text());
    const group = (await (await api(hub)('/api/v1/groups/lobby')).json()) as {
      desired: { activate: string; previous: { id: string } };
    };
    assert.equal(group.desired.activate, 'previous');
    assert.equal(group.desired.previous.id, v1);
  });
});

describe('one rollback across two hubs on one PostgreSQL', { skip: skipWithoutPostgres }, () => {
  let database: TestDatabase;
  let hubs: InProcessHub[];

  before(async () => {
    database = await createTestDatabase();
    const token = `two-hubs-admin-${process.pid}-0123456789`;
    hubs = [];
    for (let i = 0; i < 2; i++) {
      hubs.push(
        await startHub({
          DATABASE_URL: database.url,
          ADMIN_TOKEN: token,
          ROLLOUT_INTERVAL_MS: '100',
        }),
      );
    }
  });
  after(async () => {
    for (const hub of hubs) await hub.stop();
    await database.drop();
  });

  it('answers one rollback call 200 and the other 409, and publishes once', async () => {
    const [a, b] = hubs as [InProcessHub, InProcessHub];
    await createGroup(a, 'dock');
    const v1 = (
      await json<{ id: string }>(await pushModel(a, fastModel(), { name: 'det', version: '1.0.0' }))
    ).id;
    const v2 = (
      await json<{ id: string }>(
        await pushModel(a, goldenMismatchModel(), { name: 'det', version: '2.0.0' }),
      )
    ).id;
    const first = await deploy(a, {
      model_id: v1,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'dock',
    });
    await waitForDeployment(a, first.id, (d) => d.status === 'succeeded');
    const second = await deploy(b, {
      model_id: v2,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'dock',
    });
    await waitForDeployment(b, second.id, (d) => d.status === 'succeeded');
    const before = (await (await api(a)('/api/v1/groups/dock')).json()) as { desired_seq: number };

    const answers = await Promise.all([
      deploymentAction(a, second.id, 'rollback'),
      deploymentAction(b, second.id, 'rollback'),
    ]);
    assert.deepEqual(answers.map((r) => r.status).sort(), [200, 409]);
    const after = (await (await api(a)('/api/v1/groups/dock')).json()) as {
      desired_seq: number;
      desired: { activate: string };
    };
    assert.equal(
      after.desired_seq,
      before.desired_seq + 1,
      'the group desired state was published once',
    );
    assert.equal(after.desired.activate, 'previous');
    const detail = await getDeployment(a, second.id);
    assert.equal(detail.status, 'rolled_back');
    assert.equal(detail.events.filter((e) => e.type === 'rolled_back').length, 1);
  });
});
