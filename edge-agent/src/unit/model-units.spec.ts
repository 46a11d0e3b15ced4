import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { persistedNames, unitStatePath } from './model-units.js';

describe('named models on disk', () => {
  it('default keeps state.json; a named model has its own folder', () => {
    assert.equal(unitStatePath('/data', 'default'), join('/data', 'state.json'));
    assert.equal(
      unitStatePath('/data', 'classifier'),
      join('/data', 'named', 'classifier', 'state.json'),
    );
  });

  it('lists the named models with a state file, by name, and nothing else', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'named-units-'));
    try {
      assert.deepEqual(await persistedNames(dir), []);
      for (const name of ['detector', 'classifier', 'Bad Name', 'default', 'empty']) {
        await mkdir(join(dir, 'named', name), { recursive: true });
      }
      for (const name of ['detector', 'classifier', 'Bad Name', 'default']) {
        await writeFile(join(dir, 'named', name, 'state.json'), '{"version":1}');
      }
      await writeFile(join(dir, 'named', 'stray.json'), '{}');
      assert.deepEqual(await persistedNames(dir), ['classifier', 'detector']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
