import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel } from './support/onnx-models.js';
import { runProcess } from './support/process.js';

const EXAMPLE = new URL('../../docs/examples/push_model.py', import.meta.url).pathname;

/** The first python with `requests` (pyenv's or Debian's python3-requests, which .ci/run installs). */
function pythonWithRequests(): string | null {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    if (spawnSync(candidate, ['-c', 'import requests']).status === 0) return candidate;
  }
  return null;
}

const python = pythonWithRequests();

describe(
  'the Python requests example',
  { skip: python ? false : 'no python3 with requests here' },
  () => {
    let hub: InProcessHub;
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-py-'));
    before(async () => {
      hub = await startHub();
    });
    after(async () => {
      await hub?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('pushes a model as written and gets its id back', async () => {
      const file = join(dir, 'model.onnx');
      writeFileSync(file, fastModel());
      const result = await runProcess(python!, [EXAMPLE, file, 'py-detector', '2.0.0'], {
        ...process.env,
        SENTINEL_URL: hub.url,
        SENTINEL_TOKEN: hub.adminToken,
      });
      assert.equal(result.code, 0, result.stderr);
      const id = result.stdout.trim();
      const model = (await (await api(hub)(`/api/v1/models/${id}`)).json()) as {
        name: string;
        version: string;
      };
      assert.deepEqual([model.name, model.version], ['py-detector', '2.0.0']);
    });
  },
);
