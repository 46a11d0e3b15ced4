// Process-level faults: a hub killed with -9 while it is PID 1 of its own pid namespace (what every
// container restart looks like) starts again on the same DATA_DIR; DATA_DIR is private whatever the
// umask the hub was started with.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawnHub } from './support/hub.js';

const MAIN = new URL('../src/main.js', import.meta.url).pathname;

const canUnshare =
  process.getuid?.() === 0 &&
  spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

/** The hub as PID 1 of a new pid namespace; resolves once it listens, or with its output if it exits. */
function hubAsPid1(dataDir: string, adminToken: string) {
  const child: ChildProcess = spawn(
    'unshare',
    ['--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, MAIN],
    {
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        ADMIN_TOKEN: adminToken,
        PORT: '0',
        HOST: '127.0.0.1',
        MQTT_PORT: '0',
        MQTT_WS_PORT: '0',
        LOG_LEVEL: 'warn',
      },
      // A hung hub must not outlive the test (SIGKILL to unshare reaches its PID 1 through --kill-child).
      timeout: 120_000,
      killSignal: 'SIGKILL',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const started = new Promise<{ url: string } | { exited: string }>((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(output);
      if (match) resolve({ url: `http://127.0.0.1:${match[1]}` });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', () => resolve({ exited: output }));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  /** The hub's own pid as this (outer) namespace sees it: unshare's only child. */
  const hubPid = () =>
    Number(
      readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0],
    );
  return { child, started, exited, hubPid, output: () => output };
}

describe('process faults', () => {
  it(
    'a hub killed with -9 as PID 1 of its namespace starts again on the same DATA_DIR',
    {
      skip: canUnshare ? false : 'needs root and unshare(1) for a pid namespace',
    },
    async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-pid1-'));
      const token = `test-admin-${randomBytes(8).toString('hex')}`;
      try {
        const first = hubAsPid1(dataDir, token);
        const up = await first.started;
        assert.ok('url' in up, 'exited' in up ? up.exited : '');
        first.child.kill('SIGKILL'); // unshare --kill-child takes its PID 1 down with it
        await first.exited;

        const second = hubAsPid1(dataDir, token);
        const again = await second.started;
        try {
          assert.ok(
            'url' in again,
            `the restarted hub did not start:\n${'exited' in again ? again.exited : ''}`,
          );
          const health = await fetch(`${again.url}/health`);
          assert.equal(health.status, 200);
        } finally {
          second.child.kill('SIGTERM');
          await second.exited;
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );

  it('keeps DATA_DIR private (0700 folders, 0600 files) under umask 000', async () => {
    const previous = process.umask(0);
    let hub;
    try {
      hub = await spawnHub();
    } finally {
      process.umask(previous);
    }
    try {
      const open: string[] = [];
      const walk = (path: string) => {
        const stat = lstatSync(path);
        if (!stat.isSymbolicLink() && (stat.mode & 0o077) !== 0)
          open.push(`${path} ${(stat.mode & 0o777).toString(8)}`);
        if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
      };
      walk(hub.dataDir);
      assert.deepEqual(open.slice(0, 10), [], `${open.length} entries readable by others`);
    } finally {
      await hub.stop();
    }
  });
});
