import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { currentOwner, DataDirLockedError, lockDataDir, ownerAlive } from './data-dir-lock.js';

const now = (started: Record<number, string>, boot = 'boot-1') => ({
  boot,
  startedOf: (pid: number) => started[pid],
});

describe('ownerAlive', () => {
  const owner = { pid: 1, host: 'hub', boot: 'boot-1', started: '500' };

  it('is alive when the pid runs, on the same boot, started at the recorded time', () => {
    assert.equal(
      ownerAlive(owner, now({ 1: '500' }), () => true),
      true,
    );
  });

  it('is dead when the pid was handed to another process (a restarted container is PID 1 again)', () => {
    assert.equal(
      ownerAlive(owner, now({ 1: '900' }), () => true),
      false,
    );
  });

  it('is dead after a reboot, or when no process has the pid', () => {
    assert.equal(
      ownerAlive(owner, now({ 1: '500' }, 'boot-2'), () => true),
      false,
    );
    assert.equal(
      ownerAlive(owner, now({}), () => false),
      false,
    );
  });

  it('falls back to the pid alone for a lock written without a start time', () => {
    assert.equal(
      ownerAlive({ pid: 7, host: 'hub' }, now({}), () => true),
      true,
    );
    assert.equal(
      ownerAlive({ pid: 0, host: 'hub' }, now({}), () => true),
      false,
    );
  });
});

describe('lockDataDir', () => {
  it('records the owner, refuses a second lock and takes over a stale one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sentinel-lock-'));
    try {
      const release = lockDataDir(dir);
      const recorded = JSON.parse(readFileSync(join(dir, 'hub.lock'), 'utf8'));
      assert.equal(recorded.pid, process.pid);
      assert.equal(statSync(join(dir, 'hub.lock')).mode & 0o777, 0o600);
      assert.throws(() => lockDataDir(dir), DataDirLockedError);
      release();
      // A dead owner with this very pid (the container case): same pid, another start time.
      writeFileSync(join(dir, 'hub.lock'), JSON.stringify({ ...currentOwner(), started: '1' }));
      lockDataDir(dir)();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
