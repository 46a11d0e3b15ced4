import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import busboy from 'busboy';
import { CliError, EXIT, HubApiError, HubUnreachableError } from './cli-errors.js';
import { HubClient, pushModelParts } from './hub-client.js';
import { type ModelVersion, type PushModelInput } from './hub-api.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface ReceivedPart {
  name: string;
  value?: string;
  filename?: string;
  mimeType?: string;
  size?: number;
  sha256?: string;
}

function listen(handler: Handler): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}` });
    });
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Parses the upload with busboy, counting the raw bytes received. */
function receiveMultipart(
  req: IncomingMessage,
): Promise<{ parts: ReceivedPart[]; receivedBytes: number }> {
  return new Promise((resolve, reject) => {
    const parts: ReceivedPart[] = [];
    let receivedBytes = 0;
    req.on('data', (chunk: Buffer) => (receivedBytes += chunk.length));
    const parser = busboy({ headers: req.headers });
    parser.on('field', (name, value) => parts.push({ name, value }));
    parser.on('file', (name, stream, info) => {
      const part: ReceivedPart = {
        name,
        filename: info.filename,
        mimeType: info.mimeType,
        size: 0,
      };
      parts.push(part);
      const hash = createHash('sha256');
      stream.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        part.size! += chunk.length;
      });
      stream.on('end', () => (part.sha256 = hash.digest('hex')));
    });
    parser.on('close', () => resolve({ parts, receivedBytes }));
    parser.on('error', reject);
    req.pipe(parser);
  });
}

const MODEL: ModelVersion = {
  id: '0b8a4f4e-1111-4c5e-9d1a-2a0c3c4d5e6f',
  name: 'resnet',
  version: '1.2.0',
  model_type: 'classifier',
  framework: 'pytorch',
  stage: 'staging',
  sha256: 'ab'.repeat(32),
  size: 1234,
  metadata: {},
  onnx: { opset: 17, producer_name: 'pytorch', inputs: [], outputs: [], parameter_count: 10 },
  tags: [],
  parent_id: null,
  created_by: 'token:ci',
  signature: null,
  created_at: '2025-01-31T12:34:56.000Z',
  updated_at: '2025-01-31T12:34:56.000Z',
};

describe('HubClient', { timeout: 30_000 }, () => {
  let dir: string;
  let modelPath: string;
  let modelContent: Buffer;
  let server: Server | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sentinel-hub-client-'));
    modelPath = join(dir, 'resnet.onnx');
    modelContent = randomBytes(2 * 1024 * 1024 + 3);
    await writeFile(modelPath, modelContent);
  });

  afterEach(async () => {
    if (server) await close(server);
    server = undefined;
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function pushInput(overrides: Partial<PushModelInput> = {}): PushModelInput {
    return {
      name: 'resnet',
      version: '1.2.0',
      modelType: 'classifier',
      framework: 'pytorch',
      stage: 'staging',
      file: { path: modelPath, size: modelContent.length },
      ...overrides,
    };
  }

  it('orders push parts: text fields, then signature, then file', () => {
    const parts = pushModelParts(
      pushInput({
        metadata: '{"a":1}',
        parentId: 'p1',
        tags: ['edge', 'int8'],
        signature: { filename: 'bundle.json', content: Buffer.from('{}') },
      }),
    );
    assert.deepEqual(
      parts.map((part) => part.name),
      [
        'name',
        'version',
        'model_type',
        'framework',
        'stage',
        'metadata',
        'parent_id',
        'tags',
        'signature',
        'file',
      ],
    );
    assert.deepEqual(
      pushModelParts(pushInput({ tags: [] })).map((part) => part.name),
      ['name', 'version', 'model_type', 'framework', 'stage', 'file'],
    );
  });

  it('streams a push that busboy parses, with an exact Content-Length, auth and progress', async () => {
    let seen: { headers: IncomingMessage['headers']; method?: string; url?: string } | undefined;
    let received: Awaited<ReturnType<typeof receiveMultipart>> | undefined;
    ({ server } = await listen(async (req, res) => {
      seen = { headers: req.headers, method: req.method, url: req.url };
      received = await receiveMultipart(req);
      sendJson(res, 201, MODEL);
    }));
    const { port } = server.address() as AddressInfo;
    const client = new HubClient({ baseUrl: `http://127.0.0.1:${port}`, token: 's3cret' });
    const progress: [number, number][] = [];

    const result = await client.pushModel(
      pushInput({
        metadata: '{"dataset":"v3","big":12345678901234567890}',
        parentId: 'parent-1',
        tags: ['edge', 'int8'],
        signature: { filename: 'bundle.json', content: Buffer.from('{"mediaType":"b"}') },
      }),
      (sent, total) => progress.push([sent, total]),
    );

    assert.deepEqual(result, MODEL);
    assert.equal(seen?.method, 'POST');
    assert.equal(seen?.url, '/api/v1/models');
    assert.equal(seen?.headers.authorization, 'Bearer s3cret');
    assert.match(String(seen?.headers['content-type']), /^multipart\/form-data; boundary=/);
    assert.equal(Number(seen?.headers['content-length']), received?.receivedBytes);
    assert.deepEqual(received?.parts, [
      { name: 'name', value: 'resnet' },
      { name: 'version', value: '1.2.0' },
      { name: 'model_type', value: 'classifier' },
      { name: 'framework', value: 'pytorch' },
      { name: 'stage', value: 'staging' },
      { name: 'metadata', value: '{"dataset":"v3","big":12345678901234567890}' },
      { name: 'parent_id', value: 'parent-1' },
      { name: 'tags', value: 'edge,int8' },
      {
        name: 'signature',
        filename: 'bundle.json',
        mimeType: 'application/json',
        size: 17,
        sha256: createHash('sha256').update('{"mediaType":"b"}').digest('hex'),
      },
      {
        name: 'file',
        filename: 'resnet.onnx',
        mimeType: 'application/octet-stream',
        size: modelContent.length,
        sha256: createHash('sha256').update(modelContent).digest('hex'),
      },
    ]);
    assert.ok(progress.length > 1, 'progress reported more than once');
    const total = Number(seen?.headers['content-length']);
    assert.deepEqual(progress.at(-1), [total, total]);
    assert.ok(progress.every(([sent], i) => i === 0 || sent > progress[i - 1][0]));
  });

  it('reports the hub answer when it rejects the upload before reading the file', async () => {
    ({ server } = await listen((req, res) => {
      const parser = busboy({ headers: req.headers });
      parser.on('file', (_name, stream) => {
        stream.resume();
        if (!res.headersSent) {
          sendJson(res, 409, {
            statusCode: 409,
            error: 'MODEL_VERSION_EXISTS',
            message: 'resnet@1.2.0 already exists',
          });
        }
      });
      parser.on('error', () => {});
      req.pipe(parser);
    }));
    const { port } = server.address() as AddressInfo;
    const client = new HubClient({ baseUrl: `http://127.0.0.1:${port}` });

    const error = await client.pushModel(pushInput()).then(
      () => assert.fail('push should fail'),
      (err: unknown) => err,
    );

    assert.ok(error instanceof HubApiError, String(error));
    assert.equal(error.status, 409);
    assert.equal(error.exitCode, EXIT.FAILURE);
    assert.equal(error.message, 'resnet@1.2.0 already exists (HTTP 409 MODEL_VERSION_EXISTS)');
  });

  it('fails with exit code 1 when the file does not match its announced size', async () => {
    ({ server } = await listen((req, res) => {
      req.on('error', () => {});
      req.resume();
      req.on('end', () => sendJson(res, 201, MODEL));
    }));
    const { port } = server.address() as AddressInfo;
    const client = new HubClient({ baseUrl: `http://127.0.0.1:${port}` });

    await assert.rejects(
      client.pushModel(pushInput({ file: { path: modelPath, size: modelContent.length + 10 } })),
      (err: unknown) =>
        err instanceof CliError &&
        err.exitCode === EXIT.FAILURE &&
        /^upload failed: "resnet\.onnx" changed while uploading/.test(err.message),
    );
  });

  it('maps 401 and 403 to the auth exit code', async () => {
    let status = 401;
    ({ server } = await listen((_req, res) =>
      sendJson(res, status, {
        statusCode: status,
        error: 'UNAUTHORIZED',
        message: 'invalid token',
      }),
    ));
    const { port } = server.address() as AddressInfo;
    const client = new HubClient({ baseUrl: `http://127.0.0.1:${port}`, token: 'bad' });

    for (status of [401, 403]) {
      await assert.rejects(
        client.getModel('x'),
        (err: unknown) =>
          err instanceof HubApiError && err.exitCode === EXIT.AUTH && err.status === status,
      );
    }
  });

  it('builds list query strings and keeps a base path prefix', async () => {
    const urls: string[] = [];
    ({ server } = await listen((req, res) => {
      urls.push(req.url ?? '');
      sendJson(res, 200, { items: [MODEL], total: 1, limit: 5, offset: 0 });
    }));
    const { port } = server.address() as AddressInfo;
    const client = new HubClient({ baseUrl: `http://127.0.0.1:${port}/hub/` });

    const page = await client.listModels({
      name: 'res net',
      stage: 'staging',
      limit: 5,
      offset: 0,
    });
    await client.listModels();

    assert.deepEqual(page.items, [MODEL]);
    assert.deepEqual(urls, [
      '/hub/api/v1/models?name=res+net&stage=staging&limit=5&offset=0',
      '/hub/api/v1/models',
    ]);
  });

  it('encodes the id in get and sends no Authorization header without a token', async () => {
    let seen: IncomingMessage | undefined;
    ({ server } = await listen((req, res) => {
      seen = req;
      sendJson(res, 200, MODEL);
    }));
    const { port } = server.address() as AddressInfo;

    await new HubClient({ baseUrl: `http://127.0.0.1:${port}` }).getModel('a/b c');

    assert.equal(seen?.url, '/api/v1/models/a%2Fb%20c');
    assert.equal(seen?.headers.authorization, undefined);
  });

  it('asks for a deployment and its health under the base path', async () => {
    const urls: string[] = [];
    ({ server } = await listen((req, res) => {
      urls.push(req.url ?? '');
      sendJson(res, 200, { deployment_id: 'd', verdict: null, checks: [], reasons: [] });
    }));
    const { port } = server.address() as AddressInfo;
    const client = new HubClient({ baseUrl: `http://127.0.0.1:${port}/hub` });

    const health = await client.getDeploymentHealth('a/b');
    await client.getDeployment('d1');

    assert.equal(health.verdict, null);
    assert.deepEqual(urls, ['/hub/api/v1/deployments/a%2Fb/health', '/hub/api/v1/deployments/d1']);
  });

  it('rejects a 2xx response that is not JSON', async () => {
    ({ server } = await listen((_req, res) => res.writeHead(200).end('<html>')));
    const { port } = server.address() as AddressInfo;

    await assert.rejects(
      new HubClient({ baseUrl: `http://127.0.0.1:${port}` }).getModel('x'),
      (err: unknown) =>
        err instanceof CliError &&
        err.exitCode === EXIT.FAILURE &&
        err.message === 'hub returned a response that is not JSON (HTTP 200)',
    );
  });

  it('maps a refused connection to the unreachable exit code', async () => {
    const closed = await listen(() => {});
    const { port } = closed.server.address() as AddressInfo;
    await close(closed.server);

    const error = await new HubClient({ baseUrl: `http://127.0.0.1:${port}/` }).listModels().then(
      () => assert.fail('list should fail'),
      (err: unknown) => err,
    );

    assert.ok(error instanceof HubUnreachableError);
    assert.equal(error.exitCode, EXIT.UNREACHABLE);
    assert.equal(
      error.message,
      `cannot reach hub at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });

  it('gives up on a hub that stops responding', async () => {
    ({ server } = await listen(() => {}));
    const { port } = server.address() as AddressInfo;
    const client = new HubClient({ baseUrl: `http://127.0.0.1:${port}`, idleTimeoutMs: 50 });

    await assert.rejects(
      client.getModel('x'),
      (err: unknown) =>
        err instanceof HubUnreachableError && /: no activity for 0.05s$/.test(err.message),
    );
  });
});
