import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, startHub, type InProcessHub } from './support/hub.js';
import { fastModel, writeLargeOnnxModel } from './support/onnx-models.js';
import { runProcess } from './support/process.js';

const EXAMPLE = new URL('../../docs/examples/push_model.py', import.meta.url).pathname;
const MiB = 1024 * 1024;

/** The first python with `requests` (pyenv's or Debian's python3-requests, which .ci/run installs). */
function pythonWithRequests(): string | null {
  for (const candidate of ['python3', '/usr/bin/python3']) {
    if (spawnSync(candidate, ['-c', 'import requests']).status === 0) return candidate;
  }
  return null;
}

const python = pythonWithRequests();

/**
 * Runs the example as `python3 push_model.py ARGS` would, and reports the interpreter's own peak
 * RSS (VmHWM of /proc/self/status, KiB) on the last stderr line, whatever way the script ends.
 * Not getrusage's ru_maxrss: Linux carries that over an exec, so it would report this test
 * process's size from the fork.
 */
const MEASURED = [
  'import runpy, sys',
  'sys.argv = sys.argv[1:]',
  'try:',
  "    runpy.run_path(sys.argv[0], run_name='__main__')",
  'finally:',
  "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]",
  "    print('maxrss_kib=' + hwm, file=sys.stderr)",
].join('\n');

describe(
  'the Python requests example (docs/examples/push_model.py)',
  { skip: python ? false : 'no python3 with requests here' },
  () => {
    let hub: InProcessHub;
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-py-'));
    const small = join(dir, 'model.onnx');
    const large = join(dir, 'large.onnx');
    const LARGE_BYTES = 160 * MiB;

    const env = (overrides: Record<string, string> = {}) => ({
      ...process.env,
      SENTINEL_URL: hub.url,
      SENTINEL_TOKEN: hub.adminToken,
      ...overrides,
    });
    const push = (args: string[], overrides: Record<string, string> = {}) =>
      runProcess(python!, ['-c', MEASURED, EXAMPLE, ...args], env(overrides));
    const peakMiB = (stderr: string) => {
      const match = /maxrss_kib=(\d+)/.exec(stderr);
      assert.ok(match, `no maxrss line in: ${stderr}`);
      return Number(match[1]) / 1024;
    };
    /** stderr without the measurement line: what a user of the script sees. */
    const shown = (stderr: string) => stderr.replace(/^maxrss_kib=\d+\n?/m, '').trim();

    before(async () => {
      hub = await startHub();
      writeFileSync(small, fastModel());
      await writeLargeOnnxModel(large, LARGE_BYTES);
    });
    after(async () => {
      await hub?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('pushes a model and prints its id', async () => {
      const result = await push([small, 'py-detector', '2.0.0']);
      assert.equal(result.code, 0, result.stderr);
      const id = result.stdout.trim();
      const model = (await (await api(hub)(`/api/v1/models/${id}`)).json()) as {
        name: string;
        version: string;
        framework: string;
        stage: string;
      };
      assert.deepEqual(
        [model.name, model.version, model.framework, model.stage],
        ['py-detector', '2.0.0', 'onnx', 'staging'],
      );
    });

    it('streams a large file: peak memory stays far below its size, and the hub stores it whole', async () => {
      const result = await push([large, 'py-large', '1.0.0', '--tags', 'big,nightly']);
      assert.equal(result.code, 0, result.stderr);
      const peak = peakMiB(result.stderr);
      // Reading the file into memory (requests' files=) would need at least its 160 MiB.
      assert.ok(peak < 80, `peak RSS ${peak.toFixed(1)} MiB for a 160 MiB upload`);
      const model = (await (await api(hub)(`/api/v1/models/${result.stdout.trim()}`)).json()) as {
        size: number;
        tags: string[];
      };
      assert.equal(model.size, LARGE_BYTES);
      assert.deepEqual(model.tags, ['big', 'nightly']);
    });

    it("prints the hub's message on a 409, not a traceback, and exits 1", async () => {
      const result = await push([small, 'py-detector', '2.0.0']);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      const message = shown(result.stderr);
      assert.match(message, /^push_model\.py: the hub refused the push: HTTP 409 \w+: .+/);
      assert.doesNotMatch(message, /Traceback/);
      assert.equal(message.split('\n').length, 1, message);
    });

    it("prints the hub's message when it refuses a bad version before the upload ends", async () => {
      const result = await push([large, 'py-large', '../1.0.0']);
      assert.equal(result.code, 1, result.stderr);
      const message = shown(result.stderr);
      assert.match(message, /^push_model\.py: the hub refused the push: HTTP 400 \w+: .*version/);
      assert.doesNotMatch(message, /Traceback/);
    });

    it('exits 4 when the token is refused, 3 when the hub is unreachable, 2 without a file', async () => {
      const refused = await push([small, 'py-detector', '3.0.0'], {
        SENTINEL_TOKEN: 'stl_not-a-real-token',
      });
      assert.equal(refused.code, 4, refused.stderr);
      assert.match(shown(refused.stderr), /refused the token: HTTP 401/);

      const unreachable = await push([small, 'py-detector', '3.0.0'], {
        SENTINEL_URL: 'http://127.0.0.1:1',
      });
      assert.equal(unreachable.code, 3, unreachable.stderr);
      assert.match(shown(unreachable.stderr), /^push_model\.py: cannot reach the hub at /);

      const missing = await push([join(dir, 'nope.onnx'), 'py-detector', '3.0.0']);
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(shown(missing.stderr), /no such file/);
    });
  },
);
