import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';

// Bad input of every shape the fault campaign found answering 500 gets a 4xx with the error body.
// (test/http.fuzz.test.ts sends generated input to every route; these are the named cases.)

const LIST_ROUTES = ['/api/v1/models', '/api/v1/devices', '/api/v1/deployments'];

async function assertError(response: Response, status: number, message?: RegExp) {
  const text = await response.text();
  assert.equal(response.status, status, text);
  const body = JSON.parse(text) as { statusCode: number; error: string; message: string };
  assert.equal(body.statusCode, status);
  assert.equal(typeof body.error, 'string');
  assert.equal(typeof body.message, 'string');
  if (message) assert.match(body.message, message);
}

describe('HTTP input: bad input answers 4xx, never 500', () => {
  let hub: InProcessHub;
  let call: ReturnType<typeof api>;
  let modelId: string;

  before(async () => {
    hub = await startHub();
    call = api(hub);
    const pushed = await pushModel(hub, fastModel(), { name: 'input-model', version: '1.0.0' });
    assert.equal(pushed.status, 201);
    modelId = (await json<{ id: string }>(pushed)).id;
  });
  after(async () => {
    await hub?.stop();
  });

  const patchJson = (path: string, body: string, method = 'PATCH') =>
    call(path, { method, body, headers: { 'content-type': 'application/json' } });

  it('numeric query parameters out of range or not plain decimals answer 400 with the range', async () => {
    for (const route of LIST_ROUTES) {
      for (const query of [
        'offset=1e20',
        'offset=99999999999999999999',
        'offset=2147483648',
        'limit=abc',
        'limit=0x10',
        'limit=%2010',
        'limit=1.5',
        'limit=',
        'offset=-1',
      ]) {
        const name = query.split('=')[0]!;
        await assertError(
          await call(`${route}?${query}`),
          400,
          new RegExp(`^${name} must be an integer from \\d+ to \\d+`),
        );
      }
      assert.equal((await call(`${route}?limit=500&offset=2147483647`)).status, 200);
    }
  });

  it('NUL characters in a query, a path or a JSON body answer 400', async () => {
    await assertError(await call('/api/v1/models?name=%00'), 400, /NUL/);
    await assertError(await call('/api/v1/models?tag=a%00b'), 400, /NUL/);
    await assertError(await call('/api/v1/devices/%00/desired'), 400);
    await assertError(
      await patchJson(`/api/v1/models/${modelId}`, String.raw`{"metadata":{"a":"x\u0000"}}`),
      400,
      /metadata\.a.*NUL/,
    );
    await assertError(
      await patchJson(`/api/v1/models/${modelId}`, String.raw`{"metadata":{"a\u0000":1}}`),
      400,
      /NUL/,
    );
  });

  it('lone UTF-16 surrogates in JSON text answer 400', async () => {
    await assertError(
      await patchJson(`/api/v1/models/${modelId}`, String.raw`{"metadata":{"a":"\ud800"}}`),
      400,
      /Unicode/,
    );
    await assertError(
      await patchJson(`/api/v1/models/${modelId}`, String.raw`{"metadata":{"\udc00":1}}`),
      400,
      /Unicode/,
    );
  });

  it('push metadata with NUL, lone surrogates or deep nesting answers 400 and stores nothing', async () => {
    const bad = [
      String.raw`{"a":"x\u0000"}`,
      String.raw`{"a":"\ud800"}`,
      `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    ];
    for (const [i, metadata] of bad.entries()) {
      const response = await pushModel(hub, fastModel(), {
        name: 'bad-metadata',
        version: `1.0.${i}`,
        metadata,
      });
      await assertError(response, 400, /metadata/);
    }
    const listed = await json<{ total: number }>(await call('/api/v1/models?name=bad-metadata'));
    assert.equal(listed.total, 0);
  });

  it('JSON nested deeper than the limit answers 400 on every JSON route', async () => {
    const deepArray = '['.repeat(40_000) + ']'.repeat(40_000);
    const deepMetadata = `{"metadata":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    for (const [method, path] of [
      ['POST', '/api/v1/tokens'],
      ['POST', '/api/v1/groups'],
      ['POST', '/api/v1/devices'],
      ['POST', '/api/v1/deployments'],
      ['PUT', '/api/v1/groups/g1/desired'],
      ['PATCH', `/api/v1/models/${modelId}`],
      ['PATCH', '/api/v1/devices/d1'],
    ] as const) {
      await assertError(await patchJson(path, deepArray, method), 400, /nested deeper than 32/);
      await assertError(await patchJson(path, deepMetadata, method), 400, /nested deeper than 32/);
    }
    // Still within the limit: accepted.
    const ok = `{"metadata":{"deep":${'{"a":'.repeat(20)}1${'}'.repeat(20)}}}`;
    assert.equal((await patchJson(`/api/v1/models/${modelId}`, ok)).status, 200);
  });

  it('a body that is not JSON on a JSON route answers 415', async () => {
    const body = '{"name":"not-json-token","role":"viewer"}';
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/xml',
      'multipart/form-data; boundary=x',
    ]) {
      await assertError(
        await call('/api/v1/tokens', {
          method: 'POST',
          body: type.includes('urlencoded') ? 'name=not-json-token&role=viewer' : body,
          headers: { 'content-type': type },
        }),
        415,
        /application\/json/,
      );
    }
    const tokens = await json<{ name: string }[]>(await call('/api/v1/tokens'));
    assert.ok(!tokens.some((token) => token.name === 'not-json-token'));
    // A body-less POST needs no content type; JSON with a charset is JSON.
    assert.equal(
      (
        await call('/api/v1/tokens', {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json; charset=utf-8' },
        })
      ).status,
      201,
    );
  });

  it('a JSON body over the size limit answers 413; a malformed one 400', async () => {
    const huge = JSON.stringify({ name: 'x', role: 'viewer', pad: 'a'.repeat(2 * 1024 * 1024) });
    await assertError(await patchJson('/api/v1/tokens', huge, 'POST'), 413);
    await assertError(await patchJson('/api/v1/tokens', '{"name":', 'POST'), 400);
    await assertError(await patchJson('/api/v1/tokens', '\xff\xfe', 'POST'), 400);
  });
});
