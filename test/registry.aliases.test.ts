// Registry aliases (`detector@champion`) through the API, on PGlite and PostgreSQL: moves kept in
// the history and the audit log, references through an alias resolved when used, a version an
// alias points at kept from deletion, and clear refusals of bad names.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { createGroup } from './support/fleet.js';
import { deploy, getDeployment } from './support/deployments.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel, slowModel } from './support/onnx-models.js';
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from './support/postgres.js';
import { json, pushModel } from './support/push.js';

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ENGINES = [
  { name: 'PGlite (embedded)', skip: false as const, database: async () => null },
  { name: 'PostgreSQL', skip: skipWithoutPostgres, database: () => createTestDatabase() },
];

for (const engine of ENGINES) {
  describe(`registry aliases on ${engine.name}`, { skip: engine.skip }, () => {
    let hub: InProcessHub;
    let database: TestDatabase | null;
    let call: ReturnType<typeof api>;
    let v1: Body;
    let v2: Body;

    const put = (path: string, body: unknown, token?: string) =>
      api(hub, token)(path, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    before(async () => {
      database = await engine.database();
      hub = await startHub({ ...(database ? { DATABASE_URL: database.url } : {}) });
      call = api(hub);
      v1 = await json(await pushModel(hub, fastModel(), { name: 'detector', version: '1.0.0' }));
      v2 = await json(await pushModel(hub, slowModel(), { name: 'detector', version: '2.0.0' }));
      await createGroup(hub, 'lobby', 'production');
    });
    after(async () => {
      await hub?.stop();
      await database?.drop();
    });

    it('creates an alias and moves it; the history says who, when, from and to which version', async () => {
      let response = await put('/api/v1/aliases/detector/champion', { version: '1.0.0' });
      assert.equal(response.status, 200, await response.clone().text());
      const created = (await response.json()) as Body;
      assert.equal(created.version, '1.0.0');
      assert.equal(created.model_id, v1.id);
      assert.match(created.moved_by, /admin/);

      response = await put('/api/v1/aliases/detector/champion', {
        version: '2.0.0',
        reason: 'won the June evaluation',
      });
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as Body).model_id, v2.id);
      // Pointing it where it already points changes nothing and records no move.
      assert.equal(
        (await put('/api/v1/aliases/detector/champion', { version: '2.0.0' })).status,
        200,
      );

      const history = (await (
        await call('/api/v1/aliases/detector/champion/history')
      ).json()) as Body;
      assert.deepEqual(
        history.items.map((m: Body) => [m.from_version, m.to_version, m.reason]),
        [
          ['1.0.0', '2.0.0', 'won the June evaluation'],
          [null, '1.0.0', null],
        ],
      );
      assert.ok(history.items.every((m: Body) => /admin/.test(m.actor) && m.at));

      const audit = (await hub.app
        .get(DataSource)
        .query(
          `SELECT actor, details FROM audit_events WHERE action = 'model.alias.move' ORDER BY at`,
        )) as { actor: string; details: Body }[];
      assert.deepEqual(
        audit.map((row) => [row.details.alias, row.details.from, row.details.to]),
        [
          ['detector@champion', null, '1.0.0'],
          ['detector@champion', '1.0.0', '2.0.0'],
        ],
      );
    });

    it('lists aliases, filtered by model, and resolves name@alias wherever a model is named', async () => {
      await put('/api/v1/aliases/detector/challenger', { version: '1.0.0' });
      const listed = (await (await call('/api/v1/aliases?model=detector')).json()) as Body;
      assert.deepEqual(
        listed.items.map((a: Body) => `${a.alias}->${a.version}`),
        ['challenger->1.0.0', 'champion->2.0.0'],
      );
      assert.equal(((await (await call('/api/v1/aliases?model=other')).json()) as Body).total, 0);

      const model = (await (await call('/api/v1/models/detector@champion')).json()) as Body;
      assert.equal(model.id, v2.id);
      assert.equal((await call('/api/v1/models/detector@nobody')).status, 404);
    });

    it('deploys by alias: resolved at creation, the version recorded, a later move changes nothing', async () => {
      const created = await deploy(hub, {
        model_id: 'detector@champion',
        environment: 'production',
        deployment_type: 'blue-green',
        target: 'lobby',
      });
      assert.equal((created as Body).model.id, v2.id);
      const detail = await getDeployment(hub, created.id);
      const event = detail.events.find((e) => e.type === 'created');
      assert.deepEqual(event?.figures.model, {
        id: v2.id,
        name: 'detector',
        version: '2.0.0',
        ref: 'detector@champion',
      });
      await put('/api/v1/aliases/detector/champion', { version: '1.0.0' });
      assert.equal(((await getDeployment(hub, created.id)) as Body).model.id, v2.id);
    });

    it('keeps a version an alias points at from deletion (409 naming the alias)', async () => {
      const response = await call(`/api/v1/models/${v1.id}`, { method: 'DELETE' });
      assert.equal(response.status, 409);
      assert.match(((await response.json()) as Body).message, /detector@(champion|challenger)/);
    });

    it('removes an alias: 204, then 404, and its history stays with the removal', async () => {
      const removed = await call('/api/v1/aliases/detector/challenger', { method: 'DELETE' });
      assert.equal(removed.status, 204);
      assert.equal((await call('/api/v1/aliases/detector/challenger')).status, 404);
      assert.equal(
        (await call('/api/v1/aliases/detector/challenger', { method: 'DELETE' })).status,
        404,
      );
      const history = (await (
        await call('/api/v1/aliases/detector/challenger/history')
      ).json()) as Body;
      assert.deepEqual(
        history.items.map((m: Body) => [m.from_version, m.to_version]),
        [
          ['1.0.0', null],
          [null, '1.0.0'],
        ],
      );
    });

    it('refuses bad names and unknown versions with a message, and writes nothing', async () => {
      for (const [path, body, status, pattern] of [
        ['/api/v1/aliases/detector/Champion', { version: '1.0.0' }, 400, /alias/],
        ['/api/v1/aliases/detector/1st', { version: '1.0.0' }, 400, /alias/],
        ['/api/v1/aliases/detector/best', { version: 'latest!' }, 400, /version/],
        ['/api/v1/aliases/detector/best', {}, 400, /version/],
        ['/api/v1/aliases/detector/best', { version: '9.9.9' }, 404, /detector@9\.9\.9/],
        ['/api/v1/aliases/nothing/best', { version: '1.0.0' }, 404, /nothing@1\.0\.0/],
      ] as const) {
        const response = await put(path, body);
        assert.equal(response.status, status, `${path} ${JSON.stringify(body)}`);
        assert.match(((await response.json()) as Body).message, pattern);
      }
      assert.equal((await call('/api/v1/aliases/detector/best')).status, 404);
      assert.equal((await call('/api/v1/aliases/detector/best/history')).status, 404);
    });
  });
}
