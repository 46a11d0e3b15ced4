// A full disk, for real: a 1 MiB tmpfs mounted for the test (needs root, or CAP_SYS_ADMIN; skipped
// otherwise), and, with no privilege needed, a file size limit (RLIMIT_FSIZE, `ulimit -f`) on a
// child process running the downloader, where writes past the limit fail with EFBIG.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, open, readdir, rm, stat, statfs, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { AgentError } from '../errors.js';
import { ModelCache } from './downloader.js';
import { ArtifactServer } from './testing/artifact-server.js';
import { cacheOptions, modelBytes, modelRef, setup, until } from './testing/fixtures.js';

const run = promisify(execFile);
const KiB = 1024;
const TMPFS_BYTES = 1024 * KiB;

/** A fresh 1 MiB tmpfs, unmounted when the test ends; undefined if mounting is not permitted. */
async function tinyDisk(t: TestContext): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-tmpfs-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_BYTES}`, 'tmpfs', dir]);
  } catch {
    await rm(dir, { recursive: true, force: true });
    return undefined;
  }
  t.after(async () => {
    await run('umount', [dir]);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Writes zeros to `path` until the file system refuses (ENOSPC). */
async function fillUp(path: string): Promise<void> {
  const file = await open(path, 'w');
  const zeros = Buffer.alloc(16 * KiB);
  try {
    for (;;) await file.write(zeros);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await file.close();
  }
}

function isDiskFull(error: unknown): boolean {
  assert.ok(error instanceof AgentError, String(error));
  assert.equal(error.reason, 'disk_full', error.message);
  return true;
}

describe('ModelCache on a full disk', () => {
  it('refuses at once a model larger than the free space (tmpfs)', async (t) => {
    const disk = await tinyDisk(t);
    if (!disk) return t.skip('mount -t tmpfs is not permitted here');
    const server = await new ArtifactServer().start();
    t.after(() => server.close());
    const body = modelBytes(2 * TMPFS_BYTES);
    const model = modelRef(body, server.serve('/a', body));

    await assert.rejects(new ModelCache(cacheOptions(disk)).fetch(model), isDiskFull);
    assert.equal(server.requests.length, 0);
    assert.deepEqual(await readdir(disk), []);
  });

  it('deletes the .part and fails with disk_full when writing hits ENOSPC (tmpfs)', async (t) => {
    const disk = await tinyDisk(t);
    if (!disk) return t.skip('mount -t tmpfs is not permitted here');
    const server = await new ArtifactServer().start();
    t.after(() => server.close());
    const body = modelBytes(768 * KiB);
    const model = modelRef(body, server.serve('/a', body, { holdAfter: 128 * KiB }));
    const cache = new ModelCache(cacheOptions(disk, { retries: 3 }));
    const part = join(disk, `${model.sha256}.part`);

    // The model fits when the download starts; something else fills the disk meanwhile.
    const fetching = cache.fetch(model);
    await until(() => server.bytesSent >= 128 * KiB);
    let written = 0;
    await until(() => {
      void stat(part).then(
        (s) => (written = s.size),
        () => undefined,
      );
      return written >= 128 * KiB;
    });
    await fillUp(join(disk, 'filler'));
    server.release();

    await assert.rejects(fetching, isDiskFull);
    assert.deepEqual(await readdir(disk), ['filler']);
    assert.equal(server.requests.length, 1, 'no retry on a full disk');
    const { bavail, bsize } = await statfs(disk);
    assert.ok(bavail * bsize >= 128 * KiB, 'the .part space was given back');

    await unlink(join(disk, 'filler'));
    const fetched = await cache.fetch(model);
    assert.equal((await stat(fetched.path)).size, body.length);
  });

  it('deletes the .part and fails with disk_full past a file size limit (RLIMIT_FSIZE, EFBIG)', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(1024 * KiB);
    const model = modelRef(body, server.serve('/a', body));
    const limitKiB = 256;
    const child = `
      const { ModelCache } = await import(process.env.DOWNLOADER);
      const cache = new ModelCache(JSON.parse(process.env.OPTIONS));
      try {
        await cache.fetch(JSON.parse(process.env.MODEL));
        console.log(JSON.stringify({ ok: true }));
      } catch (error) {
        console.log(JSON.stringify({ reason: error.reason, message: error.message }));
      }`;

    const { stdout } = await run(
      'bash',
      [
        '-c',
        `ulimit -f ${limitKiB} && exec "$0" --input-type=module -e "$1"`,
        process.execPath,
        child,
      ],
      {
        env: {
          ...process.env,
          DOWNLOADER: new URL('./downloader.js', import.meta.url).href,
          OPTIONS: JSON.stringify(cacheOptions(dir)),
          MODEL: JSON.stringify(model),
        },
      },
    );

    const result = JSON.parse(stdout) as { reason?: string; message?: string };
    assert.equal(result.reason, 'disk_full', result.message);
    assert.match(result.message ?? '', /EFBIG/);
    assert.deepEqual(await readdir(dir), []);
    assert.equal(server.requests.length, 1);
  });
});
