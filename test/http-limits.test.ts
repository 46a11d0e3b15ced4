import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startHub, type InProcessHub } from './support/hub.js';
import { fastModel } from './support/onnx-models.js';

// Security headers on every response, and the HTTP time limits: a whole request must arrive within
// HTTP_REQUEST_TIMEOUT_S except an authenticated model push, which may take as long as its bytes
// keep coming; any connection silent for HTTP_IDLE_TIMEOUT_S is closed. The limits are set to
// about a second here so that each case runs a few seconds; nothing asserts how long a call took.

const BOUNDARY = 'limits-boundary';

interface Outcome {
  status: number | null;
  body: string;
  /** The connection was closed under the request (no answer). */
  reset: boolean;
}

/** A request whose body the test writes bit by bit; resolves when it is answered or cut. */
function openRequest(
  hub: InProcessHub,
  method: string,
  path: string,
  headers: Record<string, string>,
): { req: ClientRequest; outcome: Promise<Outcome> } {
  const req = request(`${hub.url}${path}`, { method, headers, agent: false });
  const outcome = new Promise<Outcome>((resolve) => {
    req.on('response', (response: IncomingMessage) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? null, body, reset: false }),
      );
      response.on('error', () =>
        resolve({ status: response.statusCode ?? null, body, reset: true }),
      );
    });
    req.on('error', () => resolve({ status: null, body: '', reset: true }));
  });
  return { req, outcome };
}

function multipartHead(fields: Record<string, string>): string {
  let head = '';
  for (const [key, value] of Object.entries(fields))
    head += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${key}"\r\n\r\n${value}\r\n`;
  return (
    head +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="m.onnx"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n'
  );
}

/**
 * Writes `data` in `pieces` parts, `gapMs` apart, and ends the request when `end`; stops when the
 * connection is closed. Returns how many parts it wrote.
 */
async function drip(
  req: ClientRequest,
  data: Buffer,
  pieces: number,
  gapMs: number,
  end = true,
): Promise<number> {
  const size = Math.ceil(data.length / pieces);
  let written = 0;
  for (let offset = 0; offset < data.length; offset += size) {
    if (req.destroyed || req.socket?.destroyed) return written;
    req.write(data.subarray(offset, offset + size));
    written++;
    await sleep(gapMs);
  }
  if (end && !req.destroyed) req.end();
  return written;
}

describe('HTTP security headers', () => {
  let hub: InProcessHub;
  before(async () => {
    hub = await startHub();
  });
  after(async () => {
    await hub?.stop();
  });

  it('are on API answers, errors, health and Swagger UI; X-Powered-By is not', async () => {
    const auth = { authorization: `Bearer ${hub.adminToken}` };
    for (const [path, headers] of [
      ['/api/v1/models', auth],
      ['/api/v1/models', {}],
      ['/api/v1/models/not-a-uuid', auth],
      ['/health', {}],
      ['/docs-json', {}],
      ['/docs', {}],
    ] as const) {
      const response = await fetch(`${hub.url}${path}`, { headers });
      await response.arrayBuffer();
      const where = `${path} (${response.status})`;
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', where);
      assert.equal(response.headers.get('x-frame-options'), 'DENY', where);
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer', where);
      assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(response.headers.get('x-powered-by'), null, where);
    }
    const docs = await fetch(`${hub.url}/docs`);
    const html = await docs.text();
    assert.match(docs.headers.get('content-security-policy')!, /script-src 'self'/);
    // Swagger UI's scripts are files of its own origin, which the policy allows.
    assert.doesNotMatch(html, /<script>(?!\s*<\/script>)/);
    for (const src of html.matchAll(/<script src="([^"]+)"/g)) {
      const script = await fetch(new URL(src[1]!, `${hub.url}/docs`));
      assert.equal(script.status, 200, src[1]);
      await script.arrayBuffer();
    }
  });
});

describe('HTTP time limits', () => {
  let hub: InProcessHub;
  const auth = () => ({ authorization: `Bearer ${hub.adminToken}` });
  before(async () => {
    hub = await startHub({ HTTP_REQUEST_TIMEOUT_S: '1', HTTP_IDLE_TIMEOUT_S: '1.5' });
  });
  after(async () => {
    await hub?.stop();
  });

  it('a JSON body still arriving after HTTP_REQUEST_TIMEOUT_S is answered 408', async () => {
    const body = Buffer.from(JSON.stringify({ name: 'slow-token', role: 'viewer' }));
    const { req, outcome } = openRequest(hub, 'POST', '/api/v1/tokens', {
      ...auth(),
      'content-type': 'application/json',
      'content-length': String(body.length),
    });
    // 40 pieces 100 ms apart: never idle, but the whole body takes about 4 s.
    void drip(req, body, 40, 100);
    const result = await outcome;
    assert.ok(result.reset || result.status === 408, JSON.stringify(result));
    if (result.status === 408) assert.match(result.body, /HTTP_REQUEST_TIMEOUT_S/);
  });

  it('a model push keeps going past HTTP_REQUEST_TIMEOUT_S while its bytes keep coming', async () => {
    const { req, outcome } = openRequest(hub, 'POST', '/api/v1/models', {
      ...auth(),
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'transfer-encoding': 'chunked',
    });
    const head = multipartHead({
      name: 'slow-link',
      version: '1.0.0',
      model_type: 'x',
      framework: 'onnx',
      stage: 'staging',
    });
    const data = Buffer.concat([
      Buffer.from(head),
      fastModel(),
      Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
    ]);
    void drip(req, data, 30, 120);
    const result = await outcome;
    assert.equal(result.status, 201, JSON.stringify(result));
  });

  it('a push that goes silent for HTTP_IDLE_TIMEOUT_S is cut, and leaves no partial file', async () => {
    const { req, outcome } = openRequest(hub, 'POST', '/api/v1/models', {
      ...auth(),
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'transfer-encoding': 'chunked',
    });
    const head = multipartHead({
      name: 'silent',
      version: '1.0.0',
      model_type: 'x',
      framework: 'onnx',
      stage: 'staging',
    });
    await drip(
      req,
      Buffer.concat([Buffer.from(head), fastModel().subarray(0, 1000)]),
      2,
      10,
      false,
    );
    const result = await outcome; // nothing more is sent
    assert.ok(result.reset || (result.status ?? 0) >= 400, JSON.stringify(result));
    const tmp = join(hub.dataDir, 'artifacts', 'tmp');
    while (readdirSync(tmp).some((name) => !name.startsWith('.probe-'))) await sleep(20);
    const listed = await fetch(`${hub.url}/api/v1/models?name=silent`, { headers: auth() });
    assert.equal(((await listed.json()) as { total: number }).total, 0);
  });

  it('an unauthenticated push is held to the request deadline, not let through as an upload', async () => {
    const { req, outcome } = openRequest(hub, 'POST', '/api/v1/models', {
      authorization: 'Bearer not-a-token',
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'transfer-encoding': 'chunked',
    });
    // 100 pieces would take about 10 s. The hub reads and discards a refused upload for up to 2 s
    // before it answers 401 (so a client still sending reads the answer, not a reset); the 1 s
    // deadline comes first here and answers 408, or closes the connection: long before the end.
    const written = drip(req, Buffer.alloc(100 * 1024), 100, 100);
    const result = await outcome;
    assert.ok(
      result.reset || result.status === 401 || result.status === 408,
      JSON.stringify(result),
    );
    assert.ok((await written) < 100, `the client wrote all ${await written} pieces`);
  });
});
