import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { api, startHub, type InProcessHub } from './support/hub.js';
import {
  deepJson,
  encodeText,
  fuzzRuns,
  fuzzSeed,
  hostileNumber,
  hostileText,
} from './support/fuzz.js';
import { fastModel } from './support/onnx-models.js';
import { json, pushModel } from './support/push.js';

// Generated parameters and bodies against every route of a real hub. The routes come from
// docs/openapi.json (which test/openapi.test.ts keeps equal to the code), so a new route is fuzzed
// without touching this file. Whatever is sent, the hub must not answer 5xx, and every 4xx must
// carry the error body {statusCode, error, message}.

interface Parameter {
  name: string;
  in: 'path' | 'query';
  schema?: { type?: string; enum?: string[] };
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  /** Property names of the JSON body's schema; null when the route takes no JSON body. */
  bodyKeys: string[] | null;
  multipart: boolean;
}

type Schema = { $ref?: string; properties?: Record<string, unknown> };
const spec = JSON.parse(
  readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8'),
) as {
  paths: Record<
    string,
    Record<
      string,
      { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> } }
    >
  >;
  components: { schemas: Record<string, Schema> };
};

function operations(): Operation[] {
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const content = op.requestBody?.content ?? {};
      let bodyKeys: string[] | null = null;
      const jsonSchema = content['application/json']?.schema;
      if (jsonSchema) {
        const resolved = jsonSchema.$ref
          ? spec.components.schemas[jsonSchema.$ref.split('/').pop()!]
          : jsonSchema;
        bodyKeys = Object.keys(resolved?.properties ?? {});
      }
      out.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        bodyKeys,
        multipart: 'multipart/form-data' in content,
      });
    }
  }
  return out;
}

interface Fixture {
  modelId: string;
  group: string;
  device: string;
}

/** A path parameter: sometimes an object that exists, so that deeper code runs too. */
function pathValue(name: string, fixture: Fixture): fc.Arbitrary<string> {
  const known = { id: [fixture.modelId, fixture.device], name: [fixture.group] }[name] ?? [];
  return fc.oneof(
    { arbitrary: fc.constantFrom(...known, '00000000-0000-0000-0000-000000000000'), weight: 2 },
    { arbitrary: fc.uuid(), weight: 1 },
    { arbitrary: hostileText().map((text) => encodeText(text) || 'x'), weight: 3 },
    { arbitrary: fc.constantFrom('%', '%ff', '%00', '%2e%2e', '..', 'a%2Fb', '%C0%AF'), weight: 1 },
  );
}

/** A query value, raw (already encoded, or deliberately not). */
const queryValue = (param: Parameter): fc.Arbitrary<string> =>
  fc.oneof(
    hostileText().map(encodeText),
    hostileNumber().map((n) => encodeText(String(n))),
    fc.constantFrom(...(param.schema?.enum ?? ['x']), '%', '%ff', '%00', '1e20', ''),
  );

/** A JSON value of any shape for a body field. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileText(),
  hostileNumber(),
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(hostileText(), { maxLength: 4 }),
  fc.dictionary(hostileText(10), fc.oneof(hostileText(), hostileNumber()), { maxKeys: 4 }),
);

/** A body for a JSON route: schema-shaped with hostile values, any JSON, deep JSON or not JSON. */
function bodyFor(op: Operation): fc.Arbitrary<{ body?: string; type?: string }> {
  const keys = op.bodyKeys ?? [];
  const shaped =
    keys.length > 0
      ? fc
          .dictionary(fc.oneof(fc.constantFrom(...keys), hostileText(8)), fieldValue, {
            maxKeys: keys.length + 2,
          })
          .map((value) => JSON.stringify(value))
      : fc.constant('{}');
  const text = fc.oneof(
    { arbitrary: shaped, weight: 5 },
    {
      arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value) ?? 'null'),
      weight: 2,
    },
    { arbitrary: fc.integer({ min: 30, max: 5000 }).map(deepJson), weight: 1 },
    { arbitrary: hostileText(200), weight: 1 },
  );
  const type = fc.oneof(
    { arbitrary: fc.constant('application/json'), weight: 6 },
    {
      arbitrary: fc.constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
        'application/xml',
        'application/octet-stream',
      ),
      weight: 1,
    },
  );
  return fc.oneof(
    { arbitrary: fc.record({ body: text, type }), weight: 8 },
    { arbitrary: fc.constant({}), weight: 1 },
  );
}

interface Sent {
  method: string;
  url: string;
  body?: string;
  type?: string;
  auth: 'admin' | 'viewer' | 'none';
}

function requestFor(op: Operation, fixture: Fixture): fc.Arbitrary<Sent> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const path = fc
    .tuple(...pathParams.map((p) => pathValue(p.name, fixture)))
    .map((values) =>
      pathParams.reduce((url, p, i) => url.replace(`{${p.name}}`, values[i]!), op.path),
    );
  const query = fc
    .array(
      fc.tuple(
        fc.oneof(
          { arbitrary: fc.constantFrom(...queryParams.map((p) => p.name), 'limit'), weight: 4 },
          { arbitrary: hostileText(8).map(encodeText), weight: 1 },
        ),
        fc.constantFrom(...queryParams, { name: '', in: 'query' as const }).chain(queryValue),
      ),
      { maxLength: 4 },
    )
    .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
  const body = op.bodyKeys ? bodyFor(op) : fc.constant({});
  const auth = fc.constantFrom<Sent['auth']>('admin', 'admin', 'admin', 'viewer', 'none');
  return fc.record({ path, query, body, auth }).map(({ path, query, body, auth }) => ({
    method: op.method,
    url: path + query,
    ...body,
    auth,
  }));
}

async function send(hub: InProcessHub, viewerToken: string, sent: Sent): Promise<Response> {
  const headers: Record<string, string> = {};
  if (sent.auth !== 'none')
    headers.authorization = `Bearer ${sent.auth === 'admin' ? hub.adminToken : viewerToken}`;
  if (sent.type) headers['content-type'] = sent.type;
  return fetch(hub.url + sent.url, { method: sent.method, headers, body: sent.body });
}

async function assertAnswer(response: Response, sent: Sent): Promise<void> {
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    // GET /api/v1/events never ends: its first bytes, then hang up.
    const reader = response.body!.getReader();
    const first = await reader.read();
    await reader.cancel();
    assert.equal(response.status, 200, `${sent.method} ${sent.url}`);
    assert.match(new TextDecoder().decode(first.value), /^retry: 3000/);
    return;
  }
  const text = await response.text();
  const what = `${sent.method} ${sent.url} -> ${response.status} ${text.slice(0, 300)}`;
  assert.ok(response.status < 500, what);
  if (response.status >= 400) {
    const body = JSON.parse(text) as Record<string, unknown>;
    assert.equal(body.statusCode, response.status, what);
    assert.equal(typeof body.error, 'string', what);
    assert.equal(typeof body.message, 'string', what);
  }
}

describe('HTTP API fuzz: every route of docs/openapi.json', () => {
  let hub: InProcessHub;
  let viewerToken: string;
  let fixture: Fixture;
  const ops = operations().filter((op) => !op.multipart);

  before(async () => {
    hub = await startHub({ MAX_MODEL_BYTES: String(1024 * 1024) });
    const call = api(hub);
    const post = (path: string, body: unknown) =>
      call(path, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    viewerToken = (
      await json<{ token: string }>(
        await post('/api/v1/tokens', { name: 'fuzz-viewer', role: 'viewer' }),
      )
    ).token;
    assert.equal(
      (await post('/api/v1/groups', { name: 'fuzz-group', environment: 'production' })).status,
      201,
    );
    assert.equal(
      (await post('/api/v1/devices', { id: 'fuzz-device', group: 'fuzz-group' })).status,
      201,
    );
    const model = await pushModel(hub, fastModel(), { name: 'fuzz-model', version: '1.0.0' });
    fixture = {
      modelId: (await json<{ id: string }>(model)).id,
      group: 'fuzz-group',
      device: 'fuzz-device',
    };
  });
  after(async () => {
    await hub?.stop();
  });

  it('covers the routes the OpenAPI document lists', () => {
    assert.ok(ops.length >= 30, `only ${ops.length} routes`);
    assert.ok(ops.some((op) => op.bodyKeys && op.bodyKeys.length > 0));
    assert.ok(ops.some((op) => op.parameters.some((p) => p.in === 'query')));
  });

  it('never answers 5xx; every 4xx has the error body', async () => {
    const seed = fuzzSeed('HTTP API fuzz');
    const sent = fc.constantFrom(...ops).chain((op) => requestFor(op, fixture));
    await fc.assert(
      fc.asyncProperty(sent, async (request) => {
        await assertAnswer(await send(hub, viewerToken, request), request);
      }),
      { seed, numRuns: fuzzRuns(600), includeErrorInReport: true },
    );
    // The hub is still whole afterwards.
    assert.equal((await fetch(`${hub.url}/health`)).status, 200);
  });
});
