// Stage gates per environment through the API: a held deployment is refused with its reasons and
// writes nothing, an admin may override (recorded in the created event), an operator may not, and
// `require_success_in` waits for a succeeded deployment of the same version elsewhere.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGroup } from './support/fleet.js';
import { getDeployment, waitForDeployment } from './support/deployments.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel, slowModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('stage gates', () => {
  let hub: InProcessHub;
  let operator: string;
  let v1: Body;
  let v2: Body;

  const send = async (method: string, path: string, body?: unknown, token = hub.adminToken) => {
    const response = await api(hub, token)(path, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Body };
  };
  const deployTo = (environment: string, target: string, model: string, extra: Body = {}) =>
    send('POST', '/api/v1/deployments', {
      model_id: model,
      environment,
      deployment_type: 'blue-green',
      target,
      ...extra,
    });
  const deploymentCount = async () =>
    ((await send('GET', '/api/v1/deployments')).body as { total: number }).total;

  before(async () => {
    hub = await startHub({ ROLLOUT_INTERVAL_MS: '100' });
    await createGroup(hub, 'lab', 'staging');
    await createGroup(hub, 'lobby', 'production');
    await createGroup(hub, 'dock', 'production');
    v1 = await json(await pushModel(hub, fastModel(), { name: 'det', version: '1.0.0' }));
    v2 = await json(await pushModel(hub, slowModel(), { name: 'det', version: '2.0.0' }));
    const created = await send('POST', '/api/v1/tokens', { name: 'ops', role: 'operator' });
    operator = created.body.token;
  });
  after(() => hub?.stop());

  it('lets everything through while an environment has no gates', async () => {
    assert.deepEqual((await send('GET', '/api/v1/gates')).body, { items: [] });
    assert.equal((await send('GET', '/api/v1/gates/production')).status, 404);
    const response = await deployTo('production', 'lobby', v1.id);
    assert.equal(response.status, 201, JSON.stringify(response.body));
    await waitForDeployment(hub, response.body.id, (d) => d.status === 'succeeded');
  });

  it('refuses policies that gate nothing or wait on themselves, and stage names it does not know', async () => {
    for (const [body, pattern] of [
      [{}, /set required_stage or require_success_in/],
      [{ required_stage: null, require_success_in: 'production' }, /environment itself/],
      [{ required_stage: 'gold' }, /required_stage/],
      [{ require_success_in: 'Not An Env' }, /require_success_in/],
    ] as const) {
      const response = await send('PUT', '/api/v1/gates/production', body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.match(response.body.message, pattern);
    }
    assert.equal((await send('GET', '/api/v1/gates/production')).status, 404);
  });

  it('holds a version in the wrong stage with 409 and its reasons, and creates nothing', async () => {
    const set = await send('PUT', '/api/v1/gates/production', { required_stage: 'production' });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.required_stage, 'production');
    assert.equal(set.body.require_success_in, null);

    const before = await deploymentCount();
    const refused = await deployTo('production', 'lobby', 'det@2.0.0');
    assert.equal(refused.status, 409);
    assert.match(
      refused.body.message,
      /production takes versions in stage production; det@2\.0\.0 is in staging/,
    );
    assert.equal(await deploymentCount(), before);
    // Other environments are not gated.
    const lab = await deployTo('staging', 'lab', v2.id);
    assert.equal(lab.status, 201);
    await waitForDeployment(hub, lab.body.id, (d) => d.status === 'succeeded');
  });

  it('refuses an override from an operator (403) and takes one from an admin, recorded in the event', async () => {
    for (const environment of ['production', 'staging']) {
      const target = environment === 'production' ? 'lobby' : 'lab';
      const byOperator = await send(
        'POST',
        '/api/v1/deployments',
        {
          model_id: v2.id,
          environment,
          deployment_type: 'blue-green',
          target,
          override_gates: true,
        },
        operator,
      );
      assert.equal(byOperator.status, 403, environment);
      assert.match(byOperator.body.message, /only an admin token may override the stage gates/);
    }

    const response = await deployTo('production', 'lobby', v2.id, { override_gates: true });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    const detail = await getDeployment(hub, response.body.id);
    const created = detail.events.find((e) => e.type === 'created') as Body;
    assert.deepEqual(created.figures.gates_overridden, [
      'production takes versions in stage production; det@2.0.0 is in staging',
    ]);
    assert.match(created.actor, /admin/);
    await waitForDeployment(hub, response.body.id, (d) => d.status === 'succeeded');
  });

  it('lets a version through once it is in the stage the gate asks for', async () => {
    const staged = await send('PATCH', `/api/v1/models/${v2.id}`, { stage: 'production' });
    assert.equal(staged.status, 200);
    const response = await deployTo('production', 'dock', v2.id);
    assert.equal(response.status, 201, JSON.stringify(response.body));
    const detail = await getDeployment(hub, response.body.id);
    const created = detail.events.find((e) => e.type === 'created') as Body;
    assert.equal(created.figures.gates_overridden, undefined);
    await waitForDeployment(hub, response.body.id, (d) => d.status === 'succeeded');
  });

  it('require_success_in waits for a succeeded deployment of the same version there', async () => {
    const set = await send('PUT', '/api/v1/gates/production', { require_success_in: 'staging' });
    assert.equal(set.status, 200);
    assert.equal(set.body.required_stage, null);
    // v1 never succeeded in staging; v2 did (above).
    const held = await deployTo('production', 'lobby', v1.id);
    assert.equal(held.status, 409);
    assert.match(
      held.body.message,
      /after a succeeded deployment in staging; det@1\.0\.0 has none/,
    );
    const lab = await deployTo('staging', 'lab', v1.id);
    assert.equal(lab.status, 201);
    await waitForDeployment(hub, lab.body.id, (d) => d.status === 'succeeded');
    const passed = await deployTo('production', 'lobby', v1.id);
    assert.equal(passed.status, 201, JSON.stringify(passed.body));
  });

  it('lists the gates, and an admin removes them (204, then 404)', async () => {
    const listed = await send('GET', '/api/v1/gates', undefined, operator);
    assert.deepEqual(
      listed.body.items.map((g: Body) => [g.environment, g.required_stage, g.require_success_in]),
      [['production', null, 'staging']],
    );
    assert.equal(
      (await send('DELETE', '/api/v1/gates/production', undefined, operator)).status,
      403,
    );
    assert.equal((await send('DELETE', '/api/v1/gates/production')).status, 204);
    assert.equal((await send('DELETE', '/api/v1/gates/production')).status, 404);
  });
});
