import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { corruptModel, fastModel, slowModel } from './support/onnx-models.js';
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from './support/postgres.js';
import { json, pushModel } from './support/push.js';

type Model = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path)) {
      const full = join(path, entry);
      if (statSync(full).isDirectory()) walk(full);
      else out.push(full);
    }
  };
  walk(dir);
  return out;
}

const ENGINES = [
  { name: 'PGlite (embedded)', skip: false as const, database: async () => null },
  { name: 'PostgreSQL', skip: skipWithoutPostgres, database: () => createTestDatabase() },
];

for (const engine of ENGINES) {
  describe(`registry API on ${engine.name}`, { skip: engine.skip }, () => {
    let hub: InProcessHub;
    let database: TestDatabase | null;
    let call: ReturnType<typeof api>;
    const fast = fastModel();
    const fastSha = createHash('sha256').update(fast).digest('hex');

    before(async () => {
      database = await engine.database();
      hub = await startHub({
        MAX_MODEL_BYTES: String(8 * 1024 * 1024),
        ...(database ? { DATABASE_URL: database.url } : {}),
      });
      call = api(hub);
    });
    after(async () => {
      await hub?.stop();
      await database?.drop();
    });

    let v1: Model;

    it('pushes a model: 201 with id, sha256, size and the parsed ONNX header', async () => {
      const response = await pushModel(hub, fast, {
        name: 'detector',
        version: '1.0.0',
        metadata: '{"map": 0.61}',
        tags: 'night,rain',
      });
      assert.equal(response.status, 201, await response.clone().text());
      v1 = await json(response);
      assert.match(v1.id, /^[0-9a-f-]{36}$/);
      assert.equal(v1.sha256, fastSha);
      assert.equal(v1.size, fast.length);
      assert.equal(v1.stage, 'staging');
      assert.deepEqual(v1.metadata, { map: 0.61 });
      assert.deepEqual(v1.tags, ['night', 'rain']);
      assert.equal(v1.signature, null);
      assert.equal(v1.onnx.inputs[0].name, 'input');
      assert.ok(v1.onnx.opset > 0);
      assert.ok(v1.onnx.parameter_count > 0);
      assert.equal(v1.onnx.producer_name, 'sentinel-test-models');
    });

    it('downloads exactly the pushed bytes, with ETag = sha256', async () => {
      const response = await call(`/api/v1/models/${v1.id}/artifact`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('etag'), `"${fastSha}"`);
      assert.equal(response.headers.get('accept-ranges'), 'bytes');
      const body = Buffer.from(await response.arrayBuffer());
      assert.ok(body.equals(Buffer.from(fast)));
    });

    it('serves byte ranges, 304 on a matching ETag and 416 outside the file', async () => {
      const partial = await call(`/api/v1/models/${v1.id}/artifact`, {
        headers: { range: 'bytes=10-19' },
      });
      assert.equal(partial.status, 206);
      assert.equal(partial.headers.get('content-range'), `bytes 10-19/${fast.length}`);
      assert.ok(
        Buffer.from(await partial.arrayBuffer()).equals(Buffer.from(fast.subarray(10, 20))),
      );
      const notModified = await call(`/api/v1/models/${v1.id}/artifact`, {
        headers: { 'if-none-match': `"${fastSha}"` },
      });
      assert.equal(notModified.status, 304);
      const outside = await call(`/api/v1/models/${v1.id}/artifact`, {
        headers: { range: `bytes=${fast.length + 5}-` },
      });
      assert.equal(outside.status, 416);
      assert.equal(outside.headers.get('content-range'), `bytes */${fast.length}`);
    });

    it('refuses a duplicate name+version with 409 and keeps the first', async () => {
      const response = await pushModel(hub, slowModel(), { name: 'detector', version: '1.0.0' });
      assert.equal(response.status, 409);
      assert.deepEqual(await json(response), {
        statusCode: 409,
        error: 'CONFLICT',
        message: 'model detector@1.0.0 already exists',
      });
      const kept: Model = await json(await call(`/api/v1/models/${v1.id}`));
      assert.equal(kept.sha256, fastSha);
    });

    const badPushes: [string, Parameters<typeof pushModel>[2], RegExp][] = [
      [
        'bad semver',
        { name: 'detector', version: '1.x' },
        /version "1.x" is not a semantic version \(e.g. 1.2.0\), a nightly date/,
      ],
      [
        'unknown stage',
        { name: 'detector', version: '9.0.0', stage: 'prod' },
        /stage "prod" must be one of/,
      ],
      ['a path in the name', { name: '../etc', version: '9.0.0' }, /name "..\/etc" must be/],
      ['upper-case name', { name: 'Detector', version: '9.0.0' }, /name "Detector" must be/],
      [
        'metadata that is not an object',
        { name: 'detector', version: '9.0.0', metadata: '[1,2]' },
        /metadata must be a JSON object/,
      ],
      [
        'requirements that are not an object',
        { name: 'detector', version: '9.0.0', metadata: '{"requirements": ["camera:ip67"]}' },
        /^metadata\.requirements must be an object/,
      ],
      [
        'a requirement of memory that is not a number of MiB',
        {
          name: 'detector',
          version: '9.0.0',
          metadata: '{"requirements": {"min_memory_mb": "1 GiB"}}',
        },
        /^metadata\.requirements\.min_memory_mb must be an integer/,
      ],
      [
        'an unknown requirement',
        { name: 'detector', version: '9.0.0', metadata: '{"requirements": {"gpu": true}}' },
        /^metadata\.requirements\.gpu is not a known requirement/,
      ],
      [
        'an unknown parent',
        { name: 'detector', version: '9.0.0', parent_id: '00000000-0000-4000-8000-000000000000' },
        /parent_id .* is not a model version/,
      ],
      [
        'a parent that is not a uuid',
        { name: 'detector', version: '9.0.0', parent_id: 'abc' },
        /parent_id "abc" is not a UUID/,
      ],
    ];
    for (const [what, fields, message] of badPushes) {
      it(`refuses ${what} with 400 and a message`, async () => {
        const response = await pushModel(hub, fastModel(), fields);
        assert.equal(response.status, 400);
        const body: Model = await json(response);
        assert.equal(body.error, 'VALIDATION_FAILED');
        assert.match(body.message, message);
      });
    }

    it('refuses an empty file with 400', async () => {
      const response = await pushModel(hub, new Uint8Array(0), { name: 'empty', version: '1.0.0' });
      assert.equal(response.status, 400);
      assert.equal((await json(response)).error, 'EMPTY_FILE');
    });

    it('refuses a file that is not ONNX with 400 and stores nothing', async () => {
      for (const bytes of [corruptModel(), Buffer.from('def not_a_model():\n  pass\n')]) {
        const response = await pushModel(hub, bytes, { name: 'garbage', version: '1.0.0' });
        assert.equal(response.status, 400);
        const body: Model = await json(response);
        assert.equal(body.error, 'NOT_ONNX');
        assert.match(body.message, /ONNX/);
      }
      assert.deepEqual((await json(await call('/api/v1/models?name=garbage'))).items, []);
    });

    it('refuses an upload over MAX_MODEL_BYTES with 413 and stores nothing', async () => {
      const big = Buffer.concat([fast, Buffer.alloc(9 * 1024 * 1024)]);
      const response = await pushModel(hub, big, { name: 'huge', version: '1.0.0' });
      assert.equal(response.status, 413);
      assert.equal((await json(response)).error, 'PAYLOAD_TOO_LARGE');
    });

    it('refuses a request without a file part', async () => {
      const form = new FormData();
      form.append('name', 'nofile');
      form.append('version', '1.0.0');
      const response = await call('/api/v1/models', { method: 'POST', body: form });
      assert.equal(response.status, 400);
      assert.match((await json(response)).message as string, /"file" part is missing/);
    });

    it('leaves no row and no stored bytes when the client disconnects mid-upload', async () => {
      const before = filesUnder(join(hub.dataDir, 'artifacts'));
      const boundary = 'sentinel-test-boundary';
      await new Promise<void>((resolve) => {
        const req = request(`${hub.url}/api/v1/models`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${hub.adminToken}`,
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': String(10 * 1024 * 1024),
          },
        });
        req.on('error', () => resolve());
        req.write(
          [
            `--${boundary}`,
            'Content-Disposition: form-data; name="name"',
            '',
            'cut-off',
            `--${boundary}`,
            'Content-Disposition: form-data; name="version"',
            '',
            '1.0.0',
            `--${boundary}`,
            'Content-Disposition: form-data; name="file"; filename="m.onnx"',
            'Content-Type: application/octet-stream',
            '',
            '',
          ].join('\r\n'),
        );
        req.write(Buffer.concat([fast, Buffer.alloc(2 * 1024 * 1024, 7)]), () => {
          setTimeout(() => {
            req.destroy();
            resolve();
          }, 200);
        });
      });
      // The hub notices the closed socket asynchronously; poll until its cleanup is done.
      let after: string[] = [];
      for (let i = 0; i < 50; i++) {
        after = filesUnder(join(hub.dataDir, 'artifacts'));
        if (after.length === before.length) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(after.sort(), before.sort());
      assert.deepEqual((await json(await call('/api/v1/models?name=cut-off'))).items, []);
    });

    let v2: Model;
    let v3: Model;
    it('records lineage through parent_id', async () => {
      v2 = await json(
        await pushModel(hub, slowModel(), { name: 'detector', version: '1.1.0', parent_id: v1.id }),
      );
      v3 = await json(
        await pushModel(hub, fastModel(), { name: 'detector', version: '1.2.0', parent_id: v2.id }),
      );
      assert.equal(v3.parent_id, v2.id);
      const lineage: Model = await json(await call(`/api/v1/models/${v2.id}/lineage`));
      assert.deepEqual(
        lineage.ancestors.map((m: Model) => m.version),
        ['1.0.0'],
      );
      assert.deepEqual(
        lineage.descendants.map((m: Model) => m.version),
        ['1.2.0'],
      );
      const root: Model = await json(await call(`/api/v1/models/${v1.id}/lineage`));
      assert.deepEqual(
        root.descendants.map((m: Model) => m.version),
        ['1.1.0', '1.2.0'],
      );
    });

    it('lists with filters and pagination, newest first', async () => {
      const all: Model = await json(await call('/api/v1/models?name=detector'));
      assert.equal(all.total, 3);
      assert.deepEqual(
        all.items.map((m: Model) => m.version),
        ['1.2.0', '1.1.0', '1.0.0'],
      );
      const page: Model = await json(await call('/api/v1/models?name=detector&limit=1&offset=1'));
      assert.deepEqual([page.total, page.items.length, page.items[0].version], [3, 1, '1.1.0']);
      const tagged: Model = await json(await call('/api/v1/models?tag=rain'));
      assert.deepEqual(
        tagged.items.map((m: Model) => m.id),
        [v1.id],
      );
      const bad = await call('/api/v1/models?stage=prod');
      assert.equal(bad.status, 400);
      const badLimit = await call('/api/v1/models?limit=0');
      assert.equal(badLimit.status, 400);
    });

    it('patches stage, metadata (merge) and tags', async () => {
      const response = await call(`/api/v1/models/${v1.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          stage: 'production',
          metadata: { map: null, dataset: 'coco' },
          tags: ['gold'],
        }),
      });
      assert.equal(response.status, 200);
      const patched: Model = await json(response);
      assert.equal(patched.stage, 'production');
      assert.deepEqual(patched.metadata, { dataset: 'coco' });
      assert.deepEqual(patched.tags, ['gold']);
      const refused = await call(`/api/v1/models/${v1.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ stage: 'gone' }),
      });
      assert.equal(refused.status, 400);
      const unknownField = await call(`/api/v1/models/${v1.id}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sha256: 'f'.repeat(64) }),
      });
      assert.equal(unknownField.status, 400);
    });

    it('patches requirements, refusing malformed ones with 400 and keeping the stored ones', async () => {
      const patch = (metadata: unknown) =>
        call(`/api/v1/models/${v1.id}`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ metadata }),
        });
      const requirements = { labels: ['camera:ip67'], min_memory_mb: 1024 };
      const ok = await patch({ requirements });
      assert.equal(ok.status, 200);
      assert.deepEqual((await json<Model>(ok)).metadata.requirements, requirements);
      const refused = await patch({ requirements: { labels: ['camera ip67'] } });
      assert.equal(refused.status, 400);
      const body: Model = await json(refused);
      assert.equal(body.error, 'VALIDATION_FAILED');
      assert.match(body.message, /^metadata\.requirements\.labels: "camera ip67" is not valid/);
      const after = await json<Model>(await call(`/api/v1/models/${v1.id}`));
      assert.deepEqual(after.metadata.requirements, requirements);
      assert.equal((await patch({ requirements: null })).status, 200);
    });

    it('answers 404 for unknown ids and 400 for malformed ones', async () => {
      assert.equal((await call('/api/v1/models/00000000-0000-4000-8000-000000000000')).status, 404);
      assert.equal((await call('/api/v1/models/not-a-uuid')).status, 400);
    });

    it('deletes a version, keeping bytes another version still shares', async () => {
      // v1 and v3 are the same file: one stored object
      assert.equal(v3.sha256, v1.sha256);
      assert.equal((await call(`/api/v1/models/${v3.id}`, { method: 'DELETE' })).status, 204);
      assert.equal((await call(`/api/v1/models/${v3.id}`)).status, 404);
      assert.equal((await call(`/api/v1/models/${v1.id}/artifact`)).status, 200);
      const children: Model = await json(await call(`/api/v1/models/${v2.id}/lineage`));
      assert.deepEqual(children.descendants, []);
      assert.equal((await call(`/api/v1/models/${v1.id}`, { method: 'DELETE' })).status, 204);
      const remaining = filesUnder(join(hub.dataDir, 'artifacts')).filter((f) =>
        f.endsWith(fastSha),
      );
      assert.deepEqual(remaining, []);
    });

    it('records every change in the audit trail', async () => {
      const rows: { action: string }[] = await hub.app
        .get((await import('typeorm')).DataSource)
        .query('SELECT action FROM audit_events ORDER BY at');
      const actions = rows.map((row) => row.action);
      for (const action of ['model.push', 'model.update', 'model.delete'])
        assert.ok(actions.includes(action), action);
    });
  });
}
