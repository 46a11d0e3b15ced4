import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import busboy from 'busboy';
import type { ModelVersion } from './hub-api.js';
import { run, type CliIo } from './run.js';

const MAIN_JS = fileURLToPath(new URL('./main.js', import.meta.url));

const MODEL: ModelVersion = {
  id: '0b8a4f4e-1111-4c5e-9d1a-2a0c3c4d5e6f',
  name: 'resnet',
  version: '1.2.0',
  model_type: 'classifier',
  framework: 'pytorch',
  stage: 'staging',
  sha256: 'cd'.repeat(32),
  size: 4096,
  metadata: { dataset: 'v3' },
  onnx: { opset: 17, producer_name: 'pytorch', inputs: [], outputs: [], parameter_count: 10 },
  tags: ['edge'],
  parent_id: null,
  created_by: 'token:ci',
  signature: null,
  created_at: '2025-01-31T12:34:56.000Z',
  updated_at: '2025-01-31T12:34:56.000Z',
};

interface Captured {
  io: CliIo;
  stdout: () => string;
  stderr: () => string;
}

function capture(env: CliIo['env'] = {}): Captured {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: (text: string) => err.push(text) },
      env,
    },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

interface HubRequest {
  method?: string;
  url?: string;
  authorization?: string;
  fields: Record<string, string>;
  files: Record<string, number>;
}

/** A stand-in hub: records requests, parses uploads with busboy, answers with `reply`. */
function fakeHub() {
  const requests: HubRequest[] = [];
  let reply: (req: HubRequest) => [number, unknown] = () => [200, MODEL];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const record: HubRequest = {
      method: req.method,
      url: req.url,
      authorization: req.headers.authorization,
      fields: {},
      files: {},
    };
    requests.push(record);
    const answer = () => {
      const [status, body] = reply(record);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (!String(req.headers['content-type']).startsWith('multipart/')) return answer();
    const parser = busboy({ headers: req.headers });
    parser.on('field', (name, value) => (record.fields[name] = value));
    parser.on('file', (name, stream) => {
      record.files[name] = 0;
      stream.on('data', (chunk: Buffer) => (record.files[name] += chunk.length));
    });
    parser.on('close', answer);
    req.pipe(parser);
  };
  return {
    requests,
    server: createServer(handle),
    setReply(next: typeof reply) {
      reply = next;
    },
  };
}

describe('run (in-process CLI)', { timeout: 30_000 }, () => {
  const hub = fakeHub();
  let url: string;
  let dir: string;
  let modelPath: string;

  before(async () => {
    await new Promise<void>((resolve) => hub.server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(hub.server.address() as AddressInfo).port}`;
    dir = await mkdtemp(join(tmpdir(), 'sentinel-run-'));
    modelPath = join(dir, 'resnet.onnx');
    await writeFile(modelPath, Buffer.alloc(4096, 7));
  });

  beforeEach(() => {
    hub.requests.length = 0;
    hub.setReply(() => [200, MODEL]);
  });

  after(async () => {
    hub.server.closeAllConnections();
    await new Promise((resolve) => hub.server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const pushArgs = () => [
    'model',
    'push',
    modelPath,
    '--name',
    'resnet',
    '--version',
    '1.2.0',
    '--model-type',
    'classifier',
    '--framework',
    'pytorch',
    '--stage',
    'staging',
  ];

  it('documents env vars and exit codes in the root and subcommand help', async () => {
    for (const argv of [
      ['--help'],
      ['model', 'push', '--help'],
      ['model', 'list', '--help'],
      ['help', 'model'],
    ]) {
      const out = capture();
      assert.equal(await run(argv, out.io), 0, argv.join(' '));
      assert.match(out.stdout(), /SENTINEL_URL/);
      assert.match(out.stdout(), /SENTINEL_TOKEN/);
      assert.match(out.stdout(), /Exit codes:\n {2}0 {2}success\n/);
      assert.equal(out.stderr(), '');
    }
  });

  it('exits 2 with help on stderr when no command is given', async () => {
    const out = capture();
    assert.equal(await run([], out.io), 2);
    assert.match(out.stderr(), /Usage: sentinel/);
    assert.equal(out.stdout(), '');
  });

  it('reports parse errors on one line with exit code 2', async () => {
    const cases: [string[], string][] = [
      [['model', 'list', '--bogus'], "sentinel: unknown option '--bogus'\n"],
      [['model', 'lst'], "sentinel: unknown command 'lst' (Did you mean list?)\n"],
      [
        pushArgs().filter((arg) => arg !== '--stage' && arg !== 'staging'),
        "sentinel: required option '--stage <stage>' not specified\n",
      ],
    ];
    for (const [argv, line] of cases) {
      const out = capture();
      assert.equal(await run(argv, out.io), 2);
      assert.equal(out.stderr(), line);
    }
  });

  it('validates locally before sending anything', async () => {
    const cases: [string[], string][] = [
      [
        [...pushArgs().slice(0, 6), '1.x', ...pushArgs().slice(7)],
        'sentinel: --version "1.x" is not a semantic version (1.2.0), a nightly date (20261206) or a calendar version (2026.12.6)\n',
      ],
      [
        [...pushArgs(), '--metadata', '[1]'],
        `sentinel: --metadata must be a JSON object, e.g. '{"dataset":"v3"}'\n`,
      ],
      [
        ['model', 'list', '--stage', 'live'],
        'sentinel: --stage "live" must be one of staging, production, archived\n',
      ],
      [
        ['model', 'list', '--url', 'ftp://x'],
        'sentinel: --url "ftp://x" is not a valid http(s) URL\n',
      ],
      [
        ['model', 'push', join(dir, 'nope.onnx'), ...pushArgs().slice(3)],
        `sentinel: model file "${join(dir, 'nope.onnx')}" does not exist\n`,
      ],
    ];
    for (const [argv, line] of cases) {
      const out = capture({ SENTINEL_URL: url });
      assert.equal(await run(argv, out.io), 2, argv.join(' '));
      assert.equal(out.stderr(), line);
      assert.equal(out.stdout(), '');
    }
    assert.equal(hub.requests.length, 0);
  });

  it('pushes using SENTINEL_URL and SENTINEL_TOKEN and prints a summary', async () => {
    hub.setReply(() => [201, MODEL]);
    const out = capture({ SENTINEL_URL: url, SENTINEL_TOKEN: 'tok-env' });

    const code = await run(
      [...pushArgs(), '--tags', 'edge, int8', '--metadata', '{"dataset":"v3"}'],
      out.io,
    );

    assert.equal(out.stderr(), '');
    assert.equal(code, 0);
    assert.equal(
      out.stdout(),
      'pushed resnet@1.2.0\n' +
        `  id      ${MODEL.id}\n` +
        `  sha256  ${MODEL.sha256}\n` +
        '  size    4.0 KiB (4096 bytes)\n',
    );
    assert.deepEqual(hub.requests, [
      {
        method: 'POST',
        url: '/api/v1/models',
        authorization: 'Bearer tok-env',
        fields: {
          name: 'resnet',
          version: '1.2.0',
          model_type: 'classifier',
          framework: 'pytorch',
          stage: 'staging',
          metadata: '{"dataset":"v3"}',
          tags: 'edge,int8',
        },
        files: { file: 4096 },
      },
    ]);
  });

  it('prints JSON when --json comes after subcommand options, and flags beat env', async () => {
    hub.setReply(() => [201, MODEL]);
    const out = capture({ SENTINEL_URL: 'http://127.0.0.1:9', SENTINEL_TOKEN: 'tok-env' });

    const code = await run([...pushArgs(), '--json', '--url', url, '--token', 'tok-flag'], out.io);

    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(out.stdout()), MODEL);
    assert.equal(out.stderr(), '');
    assert.equal(hub.requests[0].authorization, 'Bearer tok-flag');
  });

  it('lists as a table or JSON, passing filters through', async () => {
    const page = { items: [MODEL], total: 1, limit: 5, offset: 0 };
    hub.setReply(() => [200, page]);

    const table = capture({ SENTINEL_URL: url });
    assert.equal(await run(['model', 'list', '--name', 'resnet', '--limit', '5'], table.io), 0);
    assert.equal(
      table.stdout(),
      'ID                                    NAME    VERSION  STAGE    TYPE        SIZE     CREATED\n' +
        `${MODEL.id}  resnet  1.2.0    staging  classifier  4.0 KiB  2025-01-31 12:34Z\n`,
    );

    const json = capture({ SENTINEL_URL: url });
    assert.equal(await run(['--json', 'model', 'list', '--stage', 'staging'], json.io), 0);
    assert.deepEqual(JSON.parse(json.stdout()), page);
    assert.deepEqual(
      hub.requests.map((req) => req.url),
      ['/api/v1/models?name=resnet&limit=5', '/api/v1/models?stage=staging'],
    );
  });

  it('gets one model', async () => {
    const out = capture({ SENTINEL_URL: url });
    assert.equal(await run(['model', 'get', MODEL.id], out.io), 0);
    assert.match(out.stdout(), /^resnet@1\.2\.0\n {2}id {10}0b8a4f4e/);
    assert.equal(hub.requests[0].url, `/api/v1/models/${MODEL.id}`);
  });

  it('maps hub errors to one stderr line and exit codes 1 and 4', async () => {
    const cases: [number, unknown, number, string][] = [
      [
        409,
        { statusCode: 409, error: 'MODEL_VERSION_EXISTS', message: 'resnet@1.2.0 already exists' },
        1,
        'sentinel: resnet@1.2.0 already exists (HTTP 409 MODEL_VERSION_EXISTS)\n',
      ],
      [
        404,
        { statusCode: 404, error: 'NOT_FOUND', message: 'model version x not found' },
        1,
        'sentinel: model version x not found (HTTP 404 NOT_FOUND)\n',
      ],
      [
        401,
        { statusCode: 401, error: 'UNAUTHORIZED', message: 'missing or invalid token' },
        4,
        'sentinel: missing or invalid token (HTTP 401 UNAUTHORIZED)\n',
      ],
      [
        403,
        { statusCode: 403, error: 'FORBIDDEN', message: 'token lacks models:write' },
        4,
        'sentinel: token lacks models:write (HTTP 403 FORBIDDEN)\n',
      ],
    ];
    for (const [status, body, exitCode, line] of cases) {
      hub.setReply(() => [status, body]);
      const out = capture({ SENTINEL_URL: url });
      assert.equal(await run(pushArgs(), out.io), exitCode);
      assert.equal(out.stderr(), line);
      assert.equal(out.stdout(), '');
    }
  });

  it('exits 3 when the hub cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const out = capture({ SENTINEL_URL: `http://127.0.0.1:${port}` });

    assert.equal(await run(['model', 'get', 'resnet@9.9.9'], out.io), 3);
    assert.equal(
      out.stderr(),
      `sentinel: cannot reach hub at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
  });

  it('works through the bin, which sets the process exit code', async () => {
    const exec = promisify(execFile);
    const env = { ...process.env, SENTINEL_URL: url, SENTINEL_TOKEN: '' };

    const ok = await exec(process.execPath, [MAIN_JS, 'model', 'get', MODEL.id, '--json'], { env });
    assert.deepEqual(JSON.parse(ok.stdout), MODEL);
    assert.equal(ok.stderr, '');

    hub.setReply(() => [
      404,
      { statusCode: 404, error: 'NOT_FOUND', message: 'no such model version' },
    ]);
    const failed = await exec(process.execPath, [MAIN_JS, 'model', 'get', 'resnet@9.9.9'], {
      env,
    }).then(
      () => assert.fail('expected a failure exit'),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    assert.equal(failed.code, 1);
    assert.equal(failed.stderr, 'sentinel: no such model version (HTTP 404 NOT_FOUND)\n');
    assert.equal(failed.stdout, '');
  });
});
