import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDevice, createGroup } from './support/fleet.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel } from './support/onnx-models.js';
import { runProcess } from './support/process.js';

const BIN = new URL('../src/cli/main.js', import.meta.url).pathname;

/** The real `sentinel` bin in a child process, as a CI job runs it. */
function sentinel(hub: InProcessHub, args: string[], env: Record<string, string> = {}) {
  return runProcess(process.execPath, [BIN, ...args], {
    PATH: process.env.PATH,
    SENTINEL_URL: hub.url,
    SENTINEL_TOKEN: hub.adminToken,
    ...env,
  });
}

describe('sentinel CLI against a real hub', () => {
  let hub: InProcessHub;
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-cli-'));
  const modelPath = join(dir, 'detector.onnx');
  before(async () => {
    hub = await startHub();
    writeFileSync(modelPath, fastModel());
  });
  after(async () => {
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  let pushedId: string;
  it('pushes a model and prints it as JSON', async () => {
    const result = await sentinel(hub, [
      'model',
      'push',
      modelPath,
      '--name',
      'cli-detector',
      '--version',
      '1.0.0',
      '--model-type',
      'object-detection',
      '--framework',
      'onnx',
      '--stage',
      'staging',
      '--metadata',
      '{"map":0.5}',
      '--tags',
      'nightly',
      '--json',
    ]);
    assert.equal(result.code, 0, result.stderr);
    const model = JSON.parse(result.stdout) as {
      id: string;
      sha256: string;
      metadata: object;
      tags: string[];
    };
    assert.equal(model.sha256, createHash('sha256').update(fastModel()).digest('hex'));
    assert.deepEqual(model.metadata, { map: 0.5 });
    assert.deepEqual(model.tags, ['nightly']);
    pushedId = model.id;
  });

  it('lists and gets models', async () => {
    const list = await sentinel(hub, ['model', 'list', '--name', 'cli-detector']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /cli-detector/);
    assert.match(list.stdout, /1\.0\.0/);
    const get = await sentinel(hub, ['model', 'get', pushedId, '--json']);
    assert.equal(get.code, 0, get.stderr);
    assert.equal((JSON.parse(get.stdout) as { id: string }).id, pushedId);
  });

  it('exits 1 with one line carrying the hub reason on a duplicate', async () => {
    const result = await sentinel(hub, [
      'model',
      'push',
      modelPath,
      '--name',
      'cli-detector',
      '--version',
      '1.0.0',
      '--model-type',
      'det',
      '--framework',
      'onnx',
      '--stage',
      'staging',
    ]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(
      result.stderr,
      /^sentinel: model cli-detector@1\.0\.0 already exists \(HTTP 409 CONFLICT\)/,
    );
  });

  it('exits 1 when the hub refuses a file that is not ONNX', async () => {
    const bogus = join(dir, 'bogus.onnx');
    writeFileSync(bogus, 'not a model');
    const result = await sentinel(hub, [
      'model',
      'push',
      bogus,
      '--name',
      'bogus',
      '--version',
      '1.0.0',
      '--model-type',
      'det',
      '--framework',
      'onnx',
      '--stage',
      'staging',
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /NOT_ONNX/);
  });

  it('exits 2 on bad arguments without calling the hub', async () => {
    const result = await sentinel(hub, [
      'model',
      'push',
      modelPath,
      '--name',
      'x',
      '--version',
      '1.x',
      '--model-type',
      'det',
      '--framework',
      'onnx',
      '--stage',
      'staging',
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^sentinel: .*1\.x/);
  });

  it('exits 4 for a token that may not push', async () => {
    const created = await api(hub)('/api/v1/tokens', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'cli-viewer', role: 'viewer' }),
    });
    const { token } = (await created.json()) as { token: string };
    // a small file: the refusal comes before the hub reads the body, and a large body still in flight
    // can race the answer (see the note on early responses in src/cli/hub-client.ts)
    writeFileSync(join(dir, 'viewer.onnx'), fastModel());
    const result = await sentinel(
      hub,
      [
        'model',
        'push',
        join(dir, 'viewer.onnx'),
        '--name',
        'cli-detector',
        '--version',
        '2.0.0',
        '--model-type',
        'det',
        '--framework',
        'onnx',
        '--stage',
        'staging',
      ],
      { SENTINEL_TOKEN: token },
    );
    assert.equal(result.code, 4);
    assert.match(result.stderr, /FORBIDDEN/);
  });

  it('exports the Mosquitto password and ACL files of the fleet', async () => {
    await createGroup(hub, 'cli-group');
    await createDevice(hub, 'cli-cam', 'cli-group');
    const passwd = await sentinel(hub, ['broker', 'export-passwd']);
    assert.equal(passwd.code, 0, passwd.stderr);
    assert.match(passwd.stdout, /^cli-cam:\$7\$101\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/m);
    const acl = await sentinel(hub, ['broker', 'export-acl', '--hub-user', 'hub-x']);
    assert.equal(acl.code, 0, acl.stderr);
    assert.match(acl.stdout, /^user hub-x$/m);
    assert.match(acl.stdout, /^topic read sentinel\/v1\/groups\/cli-group\/desired$/m);
  });

  it('exits 3 when the hub cannot be reached', async () => {
    const result = await sentinel(hub, ['model', 'list'], { SENTINEL_URL: 'http://127.0.0.1:9' });
    assert.equal(result.code, 3);
    assert.match(result.stderr, /^sentinel: cannot reach hub at http:\/\/127\.0\.0\.1:9/);
  });
});
