import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export class DataDirLockedError extends Error {}

/** Who holds the lock: enough to tell a live owner from a dead one whose pid was handed out again. */
export interface LockOwner {
  pid: number;
  host: string;
  /** Linux: the kernel's boot id and the process's start time in clock ticks since boot. */
  boot?: string;
  started?: string;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command, which may contain spaces). */
function startTicks(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function currentOwner(): LockOwner {
  return {
    pid: process.pid,
    host: hostname(),
    boot: readProc('/proc/sys/kernel/random/boot_id'),
    started: startTicks(process.pid),
  };
}

/**
 * Whether the recorded owner still runs. A pid alone is not enough: in a container the hub is PID 1
 * after every restart, so a hub killed with -9 would find "itself" alive and never start again. The
 * owner is alive only if a process with its pid runs now, on the same boot, and started at the
 * recorded time (where the system tells start times: Linux). Pure apart from the look-ups it is given.
 * Like a pid file, it cannot see a hub in another pid namespace (two containers on one volume).
 */
export function ownerAlive(
  owner: LockOwner,
  now: { boot?: string; startedOf(pid: number): string | undefined },
  alive: (pid: number) => boolean,
): boolean {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  if (owner.boot && now.boot && owner.boot !== now.boot) return false;
  if (!alive(owner.pid)) return false;
  if (owner.started === undefined) return true;
  const started = now.startedOf(owner.pid);
  return started === undefined || started === owner.started;
}

function parseOwner(text: string): LockOwner | null {
  // Locks written before the owner was recorded as JSON hold a bare pid.
  if (/^\d+$/.test(text)) return { pid: Number(text), host: hostname() };
  try {
    const value = JSON.parse(text) as LockOwner;
    return typeof value.pid === 'number' && typeof value.host === 'string' ? value : null;
  } catch {
    return null;
  }
}

/**
 * Keeps a second hub off the same DATA_DIR: PGlite would let two processes open one database folder
 * and corrupt it. The lock file records the owner (pid, host, boot, start time); a lock whose owner is
 * gone (kill -9, a restarted container) is taken over.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, 'hub.lock');
  const me = currentOwner();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify(me));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = parseOwner(readFileSync(path, 'utf8').trim());
      if (owner && ownerAlive(owner, { boot: me.boot, startedOf: startTicks }, isAlive)) {
        throw new DataDirLockedError(
          `DATA_DIR ${dataDir} is in use by another hub (pid ${owner.pid}) on host ${owner.host}; stop it or choose another DATA_DIR`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new DataDirLockedError(`could not lock DATA_DIR ${dataDir}`);
}
