import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGroup, pinGroup } from './support/fleet.js';
import { api, startHub, type InProcessHub } from './support/hub.js';
import {
  safetensorsFile,
  savedModelTar,
  tfliteFile,
  torchSaveFile,
  torchScriptFile,
} from './support/model-files.js';
import { fastModel } from './support/onnx-models.js';
import { runProcess } from './support/process.js';
import { json, pushModel } from './support/push.js';

const CLI = new URL('../src/cli/main.js', import.meta.url).pathname;

interface Model {
  id: string;
  name: string;
  version: string;
  framework: string;
  format: string;
  onnx: unknown;
  error?: string;
  message?: string;
}

/** The specified API usage's two requests, as written (host, port and the Bearer token aside). */
const SPECIFIED_REQUESTS = `
import json, os, sys
import requests

url = os.environ["HUB"]
headers = {"Authorization": "Bearer " + os.environ["TOKEN"]}

with open("model.pt", "rb") as f:
    files = {"file": f}
    data = {
        "name": "yolov10",
        "version": sys.argv[1],
        "model_type": "yolo",
        "framework": "pytorch",
        "stage": "staging",
    }
    response = requests.post(url + "/api/v1/models", files=files, data=data, headers=headers)
    model = response.json()
print(json.dumps({"status": response.status_code, "body": model}))

data = {
    "model_id": model["id"],
    "environment": "production",
    "deployment_type": "blue-green",
    "target": "all",
}
response = requests.post(url + "/api/v1/deployments", json=data, headers=headers)
deployment = response.json()
print(json.dumps({"status": response.status_code, "body": deployment}))
`;

function pythonWithRequests(): string | null {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    if (spawnSync(candidate, ['-c', 'import requests']).status === 0) return candidate;
  }
  return null;
}
const python = pythonWithRequests();

async function deploy(hub: InProcessHub, modelId: string): Promise<Response> {
  return api(hub)('/api/v1/deployments', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model_id: modelId,
      environment: 'production',
      deployment_type: 'blue-green',
      target: 'all',
    }),
  });
}

describe('models of any framework in the registry', { timeout: 120_000 }, () => {
  let hub: InProcessHub;
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-formats-'));

  before(async () => {
    hub = await startHub();
    await createGroup(hub, 'formats-yard');
  });
  after(async () => {
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'the specified Python push of a .pt with framework pytorch, then its deploy refused with the way out',
    { skip: python ? false : 'no python3 with requests here' },
    async () => {
      writeFileSync(join(dir, 'model.pt'), torchScriptFile());
      const result = await runProcess(
        python!,
        ['-c', SPECIFIED_REQUESTS, '1.0.0'],
        { ...process.env, HUB: hub.url, TOKEN: hub.adminToken },
        { cwd: dir },
      );
      assert.equal(result.code, 0, result.stderr);
      const [push, deployment] = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { status: number; body: Model });
      assert.equal(push.status, 201, JSON.stringify(push.body));
      assert.equal(push.body.framework, 'pytorch');
      assert.equal(push.body.format, 'pytorch');
      assert.equal(push.body.onnx, null);
      assert.equal(deployment.status, 400);
      assert.equal(deployment.body.error, 'NOT_DEPLOYABLE');
      assert.match(deployment.body.message ?? '', /yolov10@1\.0\.0 is a PyTorch\/TorchScript file/);
      assert.match(deployment.body.message ?? '', /edge agents run ONNX models only/);
      assert.match(deployment.body.message ?? '', new RegExp(`parent_id=${push.body.id}`));

      // the way out the message gives: the ONNX export, linked by parent_id, deploys
      const exported = await json<Model>(
        await pushModel(hub, fastModel(), {
          name: 'yolov10',
          version: '1.0.0+onnx',
          framework: 'onnx',
          parent_id: push.body.id,
        }),
      );
      assert.equal(exported.format, 'onnx');
      const created = await deploy(hub, exported.id);
      assert.equal(created.status, 201, await created.clone().text());
      const lineage = await json<{ ancestors: Model[] }>(
        await api(hub)(`/api/v1/models/${exported.id}/lineage`),
      );
      assert.deepEqual(
        lineage.ancestors.map((m) => m.id),
        [push.body.id],
      );
    },
  );

  it(
    'the nightly upload: a date version pushed by the specified Python request',
    { skip: python ? false : 'no python3 with requests here' },
    async () => {
      writeFileSync(join(dir, 'model.pt'), torchSaveFile());
      const result = await runProcess(
        python!,
        ['-c', SPECIFIED_REQUESTS, '20261206'],
        { ...process.env, HUB: hub.url, TOKEN: hub.adminToken },
        { cwd: dir },
      );
      assert.equal(result.code, 0, result.stderr);
      const push = JSON.parse(result.stdout.split('\n')[0]) as { status: number; body: Model };
      assert.equal(push.status, 201, JSON.stringify(push.body));
      assert.equal(push.body.version, '20261206');
      const again = await json<Model>(await api(hub)(`/api/v1/models/${push.body.id}`));
      assert.equal(again.version, '20261206');
    },
  );

  it('detects and records each format, and serves it under its own extension', async () => {
    const cases: [string, Buffer, string, string][] = [
      ['tflite', tfliteFile(), 'tflite', 'tflite'],
      ['tensorflow', savedModelTar(), 'tf-savedmodel', 'savedmodel'],
      ['pytorch', safetensorsFile(), 'safetensors', 'safetensors'],
      ['jax', Buffer.from('weights of a framework nobody sniffs'), 'unknown', 'bin'],
      ['pytorch', fastModel(), 'onnx', 'onnx'],
    ];
    for (const [i, [framework, bytes, format, extension]] of cases.entries()) {
      const response = await pushModel(hub, bytes, {
        name: 'formats',
        version: `0.${i}.0`,
        framework,
      });
      const model = await json<Model>(response);
      assert.equal(response.status, 201, JSON.stringify(model));
      assert.equal(model.format, format, framework);
      assert.equal(model.onnx === null, format !== 'onnx');
      const artifact = await api(hub)(`/api/v1/models/${model.id}/artifact`);
      assert.match(
        artifact.headers.get('content-disposition') ?? '',
        new RegExp(`filename="formats-0\\.${i}\\.0\\.${extension}"`),
      );
      assert.deepEqual(Buffer.from(await artifact.arrayBuffer()), bytes);
    }
  });

  it('refuses a framework the bytes contradict, and framework onnx without ONNX bytes', async () => {
    const mismatch = await pushModel(hub, fastModel(), {
      name: 'mismatch',
      version: '1.0.0',
      framework: 'tflite',
    });
    assert.equal(mismatch.status, 400);
    const body = await json<Model>(mismatch);
    assert.equal(body.error, 'FORMAT_MISMATCH');
    assert.match(body.message ?? '', /framework "tflite" does not match the file, which is a ONNX/);

    const notOnnx = await pushModel(hub, torchScriptFile(), {
      name: 'mismatch',
      version: '1.0.0',
      framework: 'onnx',
    });
    assert.equal(notOnnx.status, 400);
    const refused = await json<Model>(notOnnx);
    assert.equal(refused.error, 'NOT_ONNX');
    assert.match(refused.message ?? '', /PyTorch\/TorchScript file, not an ONNX model/);
    assert.deepEqual(
      (await json<{ items: Model[] }>(await api(hub)('/api/v1/models?name=mismatch'))).items,
      [],
    );
  });

  it('refuses to pin a model the agents cannot run', async () => {
    const pt = await json<Model>(
      await pushModel(hub, torchScriptFile(), {
        name: 'pinned',
        version: '1.0.0',
        framework: 'pytorch',
      }),
    );
    await assert.rejects(pinGroup(hub, 'formats-yard', pt.id), /HTTP 400 .*NOT_DEPLOYABLE/);
  });

  it('accepts nightly dates and CalVer as given, lists them in version order, refuses junk', async () => {
    const versions = ['2026.12.6.2', '1.0.0', '20261205', '2026.12.06', '2.0.0-rc.1', '20261206'];
    for (const version of versions) {
      const response = await pushModel(hub, fastModel(), { name: 'nightly', version });
      assert.equal(response.status, 201, await response.clone().text());
    }
    const list = async (sort: string) =>
      (
        await json<{ items: Model[] }>(
          await api(hub)(`/api/v1/models?name=nightly&sort=${sort}&limit=3`),
        )
      ).items.map((m) => m.version);
    assert.deepEqual(await list('version'), ['2026.12.6.2', '20261206', '2026.12.06']);
    const page2 = (
      await json<{ items: Model[] }>(
        await api(hub)('/api/v1/models?name=nightly&sort=version&limit=3&offset=3'),
      )
    ).items.map((m) => m.version);
    assert.deepEqual(page2, ['20261205', '2.0.0-rc.1', '1.0.0']);
    assert.equal((await api(hub)('/api/v1/models?sort=semver')).status, 400);

    for (const version of ['20261306', '2026-12-06', '20261206/../x', 'v1', '2026.12.6.x']) {
      const response = await pushModel(hub, fastModel(), { name: 'nightly', version });
      assert.equal(response.status, 400, version);
      assert.match((await json<Model>(response)).message ?? '', /is not a semantic version/);
    }
  });

  it('the specified CLI push of a .pt, deploy refused (exit 1, the reason), its ONNX export deploys', async () => {
    const other = await startHub();
    try {
      await createGroup(other, 'cli-yard');
      const env = {
        PATH: process.env.PATH,
        SENTINEL_URL: other.url,
        SENTINEL_TOKEN: other.adminToken,
      };
      const sentinel = (args: string[]) => runProcess(process.execPath, [CLI, ...args], env);
      const pt = join(dir, 'path', 'to');
      mkdirSync(pt, { recursive: true });
      writeFileSync(join(pt, 'model.pt'), torchScriptFile());
      const pushed = await runProcess(
        process.execPath,
        [
          CLI,
          ...'model push path/to/model.pt --name yolov10 --version 1.0.0 --model-type yolo --framework pytorch --stage staging'.split(
            ' ',
          ),
          '--json',
        ],
        env,
        { cwd: dir },
      );
      assert.equal(pushed.code, 0, pushed.stderr);
      const model = JSON.parse(pushed.stdout) as Model;
      assert.equal(model.format, 'pytorch');

      const refused = await sentinel(
        `model deploy ${model.id} --environment production --deployment-type blue-green`.split(' '),
      );
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /^sentinel: model yolov10@1\.0\.0 is a PyTorch\/TorchScript file/,
      );
      assert.match(refused.stderr, /NOT_DEPLOYABLE/);
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);

      const onnxPath = join(dir, 'model.onnx');
      writeFileSync(onnxPath, fastModel());
      const exported = await sentinel([
        ...'model push'.split(' '),
        onnxPath,
        ...`--name yolov10 --version 1.0.0+onnx --model-type yolo --framework onnx --stage staging --parent ${model.id} --json`.split(
          ' ',
        ),
      ]);
      assert.equal(exported.code, 0, exported.stderr);
      const onnx = JSON.parse(exported.stdout) as Model;
      const deployed = await sentinel(
        `model deploy ${onnx.id} --environment production --deployment-type blue-green`.split(' '),
      );
      assert.equal(deployed.code, 0, deployed.stderr);
      assert.match(deployed.stdout, /^deployment [0-9a-f-]{36} /);

      const detail = await sentinel(['model', 'get', model.id]);
      assert.match(detail.stdout, /\n {2}format +pytorch\n/);
    } finally {
      await other.stop();
    }
  });
});
