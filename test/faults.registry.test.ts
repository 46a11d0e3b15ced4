// Fault cases of the security and reliability issue, registry side: a failed push never takes bytes
// another version shares; nothing a rollback needs can be deleted; a desired state too large for one
// MQTT message is refused before anything is stored, and one stored by an older hub does not keep the
// hub from starting.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { api, spawnHub, startHub, type InProcessHub } from './support/hub.js';
import { createDevice, createGroup, pinGroup } from './support/fleet.js';
import { deploy } from './support/deployments.js';
import { fastModel, slowModel } from './support/onnx-models.js';
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from './support/postgres.js';
import { DEFAULT_FIELDS, json, pushModel } from './support/push.js';

type Model = { id: string; sha256: string; version: string; signature?: unknown };

const ENGINES = [
  { name: 'PGlite (embedded)', skip: false as const, database: async () => null },
  { name: 'PostgreSQL', skip: skipWithoutPostgres, database: () => createTestDatabase() },
];

/** A push whose parts come in the given order: [name, value] fields and the file as ['file', bytes]. */
function pushParts(hub: InProcessHub, parts: [string, string | Buffer][]): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of parts) {
    if (typeof value === 'string') form.append(name, value);
    else form.append(name, new Blob([value]), 'model.onnx');
  }
  return fetch(`${hub.url}/api/v1/models`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${hub.adminToken}` },
  });
}

const fields = (name: string, version: string): [string, string][] => [
  ['name', name],
  ['version', version],
  ...Object.entries(DEFAULT_FIELDS),
];

async function downloadSha(hub: InProcessHub, id: string): Promise<string | number> {
  const response = await api(hub)(`/api/v1/models/${id}/artifact`);
  if (response.status !== 200) return response.status;
  return createHash('sha256')
    .update(Buffer.from(await response.arrayBuffer()))
    .digest('hex');
}

for (const engine of ENGINES) {
  describe(`registry faults on ${engine.name}`, { skip: engine.skip }, () => {
    let hub: InProcessHub;
    let database: TestDatabase | null;
    const bytes = fastModel();
    const sha = createHash('sha256').update(bytes).digest('hex');
    let good: Model;

    before(async () => {
      database = await engine.database();
      hub = await startHub(database ? { DATABASE_URL: database.url } : {});
      const response = await pushModel(hub, bytes, { name: 'shared', version: '1.0.0' });
      assert.equal(response.status, 201, await response.clone().text());
      good = await json<Model>(response);
    });
    after(async () => {
      await hub?.stop();
      await database?.drop();
    });

    it('a push that fails after its file part leaves the bytes of a version with the same content', async () => {
      const failures: [string, string | Buffer][][] = [
        [...fields('shared', '1.0.1'), ['file', bytes], ['file', bytes]], // a second file part
        [...fields('shared', '1.0.2'), ['file', bytes], ['weights', bytes]], // a misnamed part after it
        [...fields('shared', '1.0.3'), ['file', bytes], ['tags', 'x'.repeat(2 * 1024 * 1024)]], // over-long field
        [
          ['name', 'shared'],
          ['file', bytes],
          ['version', 'not-a-version'],
        ], // invalid field after the file
      ];
      for (const parts of failures) {
        const response = await pushParts(hub, parts);
        assert.ok(
          response.status >= 400 && response.status < 500,
          `${response.status}: ${await response.text()}`,
        );
        assert.equal(
          await downloadSha(hub, good.id),
          sha,
          'the registered version still downloads',
        );
      }
    });

    it('refuses form fields it would otherwise ignore: a signature sent as text, an unknown field', async () => {
      for (const [parts, pattern] of [
        [
          [...fields('fields', '1.0.0'), ['signature', '{"mediaType":"x"}'], ['file', bytes]],
          /"signature" must be sent as a file part/,
        ],
        [
          [...fields('fields', '1.0.1'), ['descripton', 'typo'], ['file', bytes]],
          /unknown field "descripton"/,
        ],
      ] as [[string, string | Buffer][], RegExp][]) {
        const response = await pushParts(hub, parts);
        assert.equal(response.status, 400);
        assert.match((await json<{ message: string }>(response)).message, pattern);
      }
      const listed = await json<{ total: number }>(await api(hub)('/api/v1/models?name=fields'));
      assert.equal(listed.total, 0);
    });

    it('takes an empty "signature" text field as no signature (what a form sends for an untouched file input)', async () => {
      const response = await pushParts(hub, [
        ...fields('blank-signature', '1.0.0'),
        ['signature', ''],
        ['parent_id', ''],
        ['file', bytes],
      ]);
      assert.equal(response.status, 201, await response.clone().text());
      assert.equal((await json<Model>(response)).signature, null);
    });

    it('concurrent pushes of the same bytes, one failing validation, never lose the good one', async () => {
      const other = slowModel({ hidden: 8, layers: 1 });
      const otherSha = createHash('sha256').update(other).digest('hex');
      for (let round = 0; round < 8; round++) {
        const [ok, bad] = await Promise.all([
          pushParts(hub, [...fields('racer', `1.0.${round}`), ['file', other]]),
          pushParts(hub, [
            ['name', 'racer'],
            ['version', `9.0.${round}`],
            ['file', other],
            ['stage', 'bogus'],
          ]),
        ]);
        assert.equal(ok.status, 201, await ok.clone().text());
        assert.equal(bad.status, 400);
        const model = await json<Model>(ok);
        assert.equal(await downloadSha(hub, model.id), otherSha, `round ${round}`);
        // Deleting the only version that uses the bytes frees them for the next round's race.
        assert.equal(
          (await api(hub)(`/api/v1/models/${model.id}`, { method: 'DELETE' })).status,
          204,
        );
      }
    });

    it('refuses to delete a model a group is pinned to, or keeps as its fallback, or a deployment can roll back to', async () => {
      await createGroup(hub, 'faults-line');
      await createDevice(hub, 'faults-cam-1', 'faults-line');
      const v1 = await json<Model>(
        await pushModel(hub, slowModel({ hidden: 8, layers: 2 }), {
          name: 'fallback',
          version: '1.0.0',
        }),
      );
      const v2 = await json<Model>(
        await pushModel(hub, slowModel({ hidden: 8, layers: 3 }), {
          name: 'fallback',
          version: '2.0.0',
        }),
      );
      const v3 = await json<Model>(
        await pushModel(hub, slowModel({ hidden: 8, layers: 4 }), {
          name: 'fallback',
          version: '3.0.0',
        }),
      );

      await pinGroup(hub, 'faults-line', v1.id);
      let response = await api(hub)(`/api/v1/models/${v1.id}`, { method: 'DELETE' });
      assert.equal(response.status, 409);
      assert.match(
        (await json<{ message: string }>(response)).message,
        /desired model of group faults-line/,
      );

      await pinGroup(hub, 'faults-line', v2.id); // v1 becomes the group's previous (its fallback)
      response = await api(hub)(`/api/v1/models/${v1.id}`, { method: 'DELETE' });
      assert.equal(response.status, 409);
      assert.match(
        (await json<{ message: string }>(response)).message,
        /fallback \(previous\) of group faults-line/,
      );

      const deployment = await deploy(hub, {
        model_id: v3.id,
        environment: 'production',
        deployment_type: 'blue-green',
        target: 'faults-line',
        rules: { enabled: false },
      });
      response = await api(hub)(`/api/v1/models/${v2.id}`, { method: 'DELETE' });
      assert.equal(response.status, 409);
      const message = (await json<{ message: string }>(response)).message;
      assert.ok(message.includes(deployment.id) || /faults-line/.test(message), message);
      assert.equal(await downloadSha(hub, v2.id), v2.sha256);
    });

    it('refuses metadata over the limit at push and when a PATCH would grow it past the limit', async () => {
      const big = JSON.stringify({ notes: 'x'.repeat(40 * 1024) });
      let response = await pushModel(hub, slowModel({ hidden: 8, layers: 5 }), {
        name: 'meta',
        version: '1.0.0',
        metadata: big,
      });
      assert.equal(response.status, 400);
      assert.match((await json<{ message: string }>(response)).message, /metadata is \d+ bytes/);

      response = await pushModel(hub, slowModel({ hidden: 8, layers: 5 }), {
        name: 'meta',
        version: '1.0.0',
        metadata: '{"a":1}',
      });
      const model = await json<Model>(response);
      for (const part of ['one', 'two']) {
        response = await api(hub)(`/api/v1/models/${model.id}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ metadata: { [part]: 'y'.repeat(20 * 1024) } }),
        });
        if (part === 'one') assert.equal(response.status, 200);
      }
      assert.equal(response.status, 400, 'the merged metadata would be 40 KiB');
      const stored = await json<{ metadata: Record<string, unknown> }>(
        await api(hub)(`/api/v1/models/${model.id}`),
      );
      assert.deepEqual(Object.keys(stored.metadata).sort(), ['a', 'one']);
    });

    it('refuses a desired state over the MQTT limit before storing anything (pin and deployment)', async () => {
      await createGroup(hub, 'faults-big');
      const model = await json<Model>(
        await pushModel(hub, slowModel({ hidden: 8, layers: 6 }), {
          name: 'huge',
          version: '1.0.0',
        }),
      );
      // What an older hub let through: metadata far over today's limit, written straight to the table.
      await hub.app
        .get(DataSource)
        .query('UPDATE model_versions SET metadata = $2 WHERE id = $1', [
          model.id,
          JSON.stringify({ blob: 'z'.repeat(300 * 1024) }),
        ]);
      let response = await api(hub)('/api/v1/groups/faults-big/desired', {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model_id: model.id }),
      });
      assert.equal(response.status, 413, await response.clone().text());
      assert.match((await json<{ message: string }>(response)).message, /MQTT message limit/);
      response = await api(hub)('/api/v1/groups/faults-big/desired');
      assert.ok(['', 'null'].includes((await response.text()).trim()), 'nothing stored');

      response = await api(hub)('/api/v1/deployments', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model_id: model.id,
          environment: 'production',
          deployment_type: 'blue-green',
          target: 'faults-big',
        }),
      });
      assert.equal(response.status, 413, await response.clone().text());
      const list = await json<{ items: { model_id: string }[] }>(
        await api(hub)('/api/v1/deployments?limit=100'),
      );
      assert.equal(
        list.items.filter((d) => d.model_id === model.id).length,
        0,
        'no half-made deployment',
      );
    });
  });
}

describe('a hub whose stored desired state no longer fits in an MQTT message', () => {
  it('starts anyway, re-publishes the others and names the one it skipped', async () => {
    const first = await startHub({ DATA_DIR: mkdtempSync(join(tmpdir(), 'sentinel-faults-')) });
    const { dataDir, adminToken } = first;
    try {
      await createGroup(first, 'ok-line');
      await createGroup(first, 'bad-line');
      const model = await json<Model>(
        await pushModel(first, fastModel(), { name: 'restart', version: '1.0.0' }),
      );
      await pinGroup(first, 'ok-line', model.id);
      const oversized = {
        ...(await pinGroup(first, 'bad-line', model.id)),
        padding: 'p'.repeat(300 * 1024),
      };
      // What an older hub could store: a state the broker refuses to publish.
      await first.app
        .get(DataSource)
        .query("UPDATE device_groups SET desired = $1 WHERE name = 'bad-line'", [
          JSON.stringify(oversized),
        ]);
      await first.stop();

      const hub = await spawnHub({ DATA_DIR: dataDir, ADMIN_TOKEN: adminToken, LOG_LEVEL: 'info' });
      try {
        assert.equal((await fetch(`${hub.url}/health`)).status, 200);
        assert.match(hub.output(), /skipped re-publishing the desired state on [^ ]*bad-line/);
        assert.match(hub.output(), /re-published 1 retained desired state/);
      } finally {
        await hub.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
