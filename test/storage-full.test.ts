import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestHub } from './support/hub.js';
import { fastModel } from './support/onnx-models.js';
import { pushModel } from './support/push.js';

// A full disk under the artifact store: a real, small tmpfs mounted over DATA_DIR/artifacts in a
// user and mount namespace of the hub's own (no root needed where user namespaces are allowed).

const TMPFS_BYTES = 4 * 1024 * 1024;
const MAIN = new URL('../src/main.js', import.meta.url).pathname;

const canUnshare =
  spawnSync('unshare', ['-Urm', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /mnt'], {
    stdio: 'ignore',
  }).status === 0;

interface FullDiskHub extends TestHub {
  child: ChildProcess;
  /** The artifacts folder as the test sees it: through the hub's own mount namespace. */
  artifacts: string;
}

async function spawnHubOnTmpfs(): Promise<FullDiskHub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-full-'));
  const artifactsDir = join(dataDir, 'artifacts');
  mkdirSync(artifactsDir);
  const adminToken = `test-admin-${randomBytes(16).toString('hex')}`;
  const script = `mount -t tmpfs -o size=${TMPFS_BYTES} tmpfs "$ARTIFACTS" && exec "$NODE" "$MAIN"`;
  const child = spawn('unshare', ['-Urm', 'sh', '-c', script], {
    env: {
      ...process.env,
      ARTIFACTS: artifactsDir,
      NODE: process.execPath,
      MAIN,
      PORT: '0',
      HOST: '127.0.0.1',
      MQTT_PORT: '0',
      MQTT_WS_PORT: '0',
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      ADMIN_TOKEN: adminToken,
      MAX_MODEL_BYTES: String(16 * 1024 * 1024),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /sentinel-hub listening on http:\/\/[^:]+:(\d+)/.exec(output);
      if (match) resolve(`http://127.0.0.1:${match[1]}`);
    });
    child.once('exit', (code) => reject(new Error(`hub exited with ${code}:\n${output}`)));
  });
  return {
    child,
    url,
    mqtt: null,
    adminToken,
    dataDir,
    artifacts: `/proc/${child.pid}/root${artifactsDir}`,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Writes into `dir` until the filesystem refuses with ENOSPC; returns the file written. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const chunk = Buffer.alloc(64 * 1024, 1);
  const parts: Buffer[] = [];
  for (;;) {
    parts.push(chunk);
    try {
      writeFileSync(path, Buffer.concat(parts));
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
      // Leave it as full as it got: the last write may have been cut, keep what fits.
      for (let size = parts.length - 1; size > 0; size--) {
        try {
          writeFileSync(path, Buffer.concat(parts.slice(0, size)));
        } catch {
          continue;
        }
        break;
      }
      for (let bytes = 4096; bytes > 0; bytes = Math.floor(bytes / 2)) {
        try {
          writeFileSync(join(dir, `crumb-${bytes}-${Math.random()}`), Buffer.alloc(bytes));
        } catch {
          // full at this size; try smaller
        }
      }
      return path;
    }
  }
}

describe(
  'a full disk under the artifact store',
  { skip: !canUnshare && 'no user namespaces' },
  () => {
    let hub: FullDiskHub;

    before(async () => {
      hub = await spawnHubOnTmpfs();
    });
    after(async () => {
      await hub?.stop();
    });

    it('a push bigger than the free space answers 507 and leaves no partial file', async () => {
      const big = Buffer.concat([fastModel(), randomBytes(TMPFS_BYTES)]);
      const response = await pushModel(hub, big, { name: 'too-big-for-disk', version: '1.0.0' });
      const body = (await response.json()) as {
        statusCode: number;
        error: string;
        message: string;
      };
      assert.equal(response.status, 507, JSON.stringify(body));
      assert.equal(body.error, 'INSUFFICIENT_STORAGE');
      assert.match(body.message, /storage is full/);
      assert.deepEqual(readdirSync(join(hub.artifacts, 'tmp')), []);
    });

    it('with the disk full, /health reports storage down and a push answers 507; freed, both recover', async () => {
      const filler = fill(hub.artifacts);
      try {
        const health = await fetch(`${hub.url}/health`);
        const report = (await health.json()) as Record<string, Record<string, unknown>>;
        assert.equal(health.status, 503, JSON.stringify(report));
        assert.equal((report.error!.storage as { status: string }).status, 'down');
        assert.match(JSON.stringify(report.error!.storage), /ENOSPC|no space/i);

        const push = await pushModel(hub, fastModel(), { name: 'on-full-disk', version: '1.0.0' });
        assert.equal(push.status, 507, await push.text());
      } finally {
        for (const entry of readdirSync(hub.artifacts))
          if (entry === 'filler' || entry.startsWith('crumb-'))
            rmSync(join(hub.artifacts, entry), { force: true });
        assert.ok(filler);
      }
      const health = await fetch(`${hub.url}/health`);
      assert.equal(health.status, 200, await health.text());
      const push = await pushModel(hub, fastModel(), { name: 'on-full-disk', version: '1.0.0' });
      assert.equal(push.status, 201, await push.text());
    });
  },
);
