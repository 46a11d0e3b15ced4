// Issue 15 item 9: a full disk while the agent saves its slot state. Real: a small tmpfs (needs
// root or CAP_SYS_ADMIN; skipped otherwise) holds the agent's data folder, filled up by the test;
// the model cache is a symlink to an ordinary folder, so only the slot state meets the full disk.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, open, readdir, readFile, rm, symlink, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent } from '@sentinel/edge-agent';
import { fastModel } from './support/onnx-models.js';
import { serving } from './support/agent-fixture.js';
import { AgentHarness, failedWith } from './support/agent-harness.js';

const run = promisify(execFile);

/** A fresh tmpfs of `bytes`, unmounted when the test ends; undefined if mounting is not permitted. */
async function tinyDisk(t: TestContext, bytes: number): Promise<string | undefined> {
  const dir = await mkdtemp(join(tmpdir(), 'agent-tmpfs-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]);
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
  const zeros = Buffer.alloc(4096);
  try {
    for (;;) await file.write(zeros);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await file.close();
  }
}

describe('edge agent on a full disk (tmpfs)', () => {
  let h: AgentHarness;
  before(async () => {
    h = await new AgentHarness().start();
  });
  after(() => h.stop());

  it('reports disk_full, serves nothing new and leaves the state file whole; a reload then succeeds', async (t) => {
    const disk = await tinyDisk(t, 256 * 1024);
    if (!disk) return t.skip('mount -t tmpfs is not permitted here');
    const { broker, hub } = h;
    const cache = join(h.dir, 'disk-models');
    await mkdir(cache, { recursive: true });
    await symlink(cache, join(disk, 'models'));
    const model = hub.add('det', '2.0.0', fastModel());
    const agent = new Agent(h.config('disk-a', 'disk-a', { SENTINEL_DATA_DIR: disk }));
    try {
      await agent.start();
      await broker.waitForState('disk-a', (s) => s.online);
      const before = await readFile(join(disk, 'state.json'), 'utf8');

      await fillUp(join(disk, 'filler'));
      await broker.publishDesired({ group: 'disk-a' }, { model, deployment_id: 'd-disk' });
      const failed = await broker.waitForState('disk-a', failedWith('disk_full'));
      assert.equal(failed.active_slot, null, 'a model it could not record does not serve');
      assert.match(failed.deployment?.detail ?? '', /ENOSPC/);
      assert.equal(await readFile(join(disk, 'state.json'), 'utf8'), before);
      assert.deepEqual((await readdir(disk)).sort(), ['filler', 'models', 'state.json']);

      // Space again, and the hub's reload: the same deployment goes through.
      await unlink(join(disk, 'filler'));
      await broker.command('disk-a', 'reload');
      await broker.waitForState('disk-a', (s) => serving(s, model));
      const saved = JSON.parse(await readFile(join(disk, 'state.json'), 'utf8')) as {
        blue: { sha256: string } | null;
      };
      assert.equal(saved.blue?.sha256, model.sha256);
    } finally {
      await agent.stop(); // before the tmpfs goes
    }
  });
});
