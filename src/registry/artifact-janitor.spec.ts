import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArtifactJanitor } from './artifact-janitor.js';

function janitor(referenced: Set<string>) {
  const removed: string[] = [];
  const warnings: string[] = [];
  const j = new ArtifactJanitor(
    async (sha) => referenced.has(sha),
    async (sha) => {
      removed.push(sha);
    },
    (message) => warnings.push(message),
  );
  return { j, removed, warnings };
}

describe('ArtifactJanitor', () => {
  it('removes an unreferenced candidate at once when no push is in flight', async () => {
    const { j, removed } = janitor(new Set());
    await j.discard('a');
    assert.deepEqual(removed, ['a']);
  });

  it('never removes bytes a model version still refers to', async () => {
    const { j, removed } = janitor(new Set(['a']));
    await j.discard('a');
    assert.deepEqual(removed, []);
  });

  it('keeps candidates while any push is in flight and sweeps when the last one ends', async () => {
    const referenced = new Set<string>();
    const { j, removed } = janitor(referenced);
    const endA = j.begin();
    const endB = j.begin();
    await j.discard('shared'); // B failed; A may be about to register the same bytes
    assert.deepEqual(removed, []);
    await endB();
    assert.deepEqual(removed, []);
    referenced.add('shared'); // A registered its version
    await endA();
    assert.deepEqual(removed, [], 'bytes registered by the concurrent push stay');
  });

  it('sweeps a candidate nobody registered once the pushes are over', async () => {
    const { j, removed } = janitor(new Set());
    const end = j.begin();
    await j.discard('orphan');
    await end();
    await end(); // ending twice counts once
    assert.deepEqual(removed, ['orphan']);
    assert.equal(j.pushesInFlight, 0);
  });

  it('gives a candidate back when a push starts during the reference look-up', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const removed: string[] = [];
    const j = new ArtifactJanitor(
      async () => {
        await gate;
        return false;
      },
      async (sha) => {
        removed.push(sha);
      },
      () => undefined,
    );
    const sweeping = j.discard('x');
    const end = j.begin(); // a push of the same bytes starts while the janitor asks the database
    release();
    await sweeping;
    assert.deepEqual(removed, []);
    await end();
    assert.deepEqual(removed, ['x']);
  });

  it('reports a failed removal and goes on with the others', async () => {
    const warnings: string[] = [];
    const removed: string[] = [];
    const j = new ArtifactJanitor(
      async () => false,
      async (sha) => {
        if (sha === 'bad') throw new Error('EACCES');
        removed.push(sha);
      },
      (message) => warnings.push(message),
    );
    const end = j.begin();
    await j.discard('bad');
    await j.discard('good');
    await end();
    assert.deepEqual(removed, ['good']);
    assert.match(warnings[0], /bad: EACCES/);
  });
});
