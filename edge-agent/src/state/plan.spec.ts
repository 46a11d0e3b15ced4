import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cohortBucket, type DesiredState, type ModelRef } from '@sentinel/broker/protocol';
import {
  effectiveDesired,
  nextStep,
  phaseOf,
  targetOf,
  withServed,
  type SlotsView,
  type Veto,
} from './plan.js';

function model(version: string): ModelRef {
  const sha256 = Buffer.from(version.padEnd(32, '.')).toString('hex').slice(0, 64);
  return {
    id: '00000000-0000-4000-8000-00000000000' + version.replace(/\D/g, '').slice(0, 1),
    name: 'det',
    version,
    sha256,
    size: 10,
    url: 'http://hub/a',
    signature: null,
  };
}

const v1 = model('1.0.0');
const v2 = model('2.0.0');
const v0 = model('0.9.0');

function desired(fields: Partial<DesiredState>): DesiredState {
  return {
    deployment_id: 'dep-1',
    seq: 1,
    strategy: 'blue-green',
    model: v2,
    previous: v1,
    activate: 'new',
    cohort: null,
    issued_at: '2026-11-29T00:00:00Z',
    ...fields,
  };
}

const empty: SlotsView = { active: null, blue: null, green: null };
const onV1: SlotsView = { active: 'blue', blue: v1, green: v0 };

describe('targetOf', () => {
  it('serves the new model and keeps the previous on standby when activate is "new"', () => {
    assert.deepEqual(targetOf(desired({}), 'cam-1'), { serve: v2, standby: v1, inCohort: true });
  });

  it('blue/green phase 1 (activate "previous") serves the previous model and stages the new one', () => {
    const target = targetOf(desired({ activate: 'previous' }), 'cam-1');
    assert.deepEqual(target, { serve: v1, standby: v2, inCohort: true });
  });

  it('outside the canary cohort keeps the previous model and downloads nothing', () => {
    // A salt for which cam-1 falls in bucket b: a 0 % cohort never holds it, a 100 % one always.
    const out = targetOf(
      desired({ strategy: 'canary', cohort: { percent: 0, salt: 's' } }),
      'cam-1',
    );
    assert.deepEqual(out, { serve: v1, standby: null, inCohort: false });
    const all = targetOf(
      desired({ strategy: 'canary', cohort: { percent: 100, salt: 's' } }),
      'cam-1',
    );
    assert.equal(all.inCohort, true);
  });

  it('uses the shared cohort function: membership follows the bucket of salt + device id', () => {
    const bucket = cohortBucket('salt-x', 'cam-7'); // 0..9999
    const just = (bucket + 1) / 100; // the smallest percent whose cohort holds bucket
    assert.equal(
      targetOf(desired({ cohort: { percent: just, salt: 'salt-x' } }), 'cam-7').inCohort,
      true,
    );
    assert.equal(
      targetOf(desired({ cohort: { percent: bucket / 100, salt: 'salt-x' } }), 'cam-7').inCohort,
      false,
    );
  });
});

describe('effectiveDesired', () => {
  it('lets a device override win over the group', () => {
    const group = desired({ seq: 5 });
    const device = desired({ seq: 1, deployment_id: null, strategy: 'pinned' });
    assert.equal(effectiveDesired(group, device), device);
    assert.equal(effectiveDesired(group, null), group);
    assert.equal(effectiveDesired(null, null), null);
  });
});

describe('nextStep', () => {
  it('first model on an empty device: stage into blue and activate', () => {
    const step = nextStep({ serve: v1, standby: null, inCohort: true }, empty, 'd', []);
    assert.deepEqual(step, { kind: 'stage', slot: 'blue', model: v1, activate: true });
  });

  it('a blue/green rollout: stage v2 into the standby slot, then swap, then idle with v1 on standby', () => {
    const phase1 = targetOf(desired({ activate: 'previous' }), 'cam-1');
    assert.deepEqual(nextStep(phase1, onV1, 'dep-1', []), {
      kind: 'stage',
      slot: 'green',
      model: v2,
      activate: false,
    });
    const staged: SlotsView = { active: 'blue', blue: v1, green: v2 };
    assert.deepEqual(nextStep(phase1, staged, 'dep-1', []), { kind: 'idle' });
    const phase2 = targetOf(desired({ activate: 'new', seq: 2 }), 'cam-1');
    assert.deepEqual(nextStep(phase2, staged, 'dep-1', []), { kind: 'activate', slot: 'green' });
    const swapped: SlotsView = { active: 'green', blue: v1, green: v2 };
    assert.deepEqual(nextStep(phase2, swapped, 'dep-1', []), { kind: 'idle' });
  });

  it('a rollback to the model on standby is a swap, with no download', () => {
    const back = targetOf(desired({ activate: 'previous', seq: 3 }), 'cam-1');
    const swapped: SlotsView = { active: 'green', blue: v1, green: v2 };
    assert.deepEqual(nextStep(back, swapped, 'dep-1', []), { kind: 'activate', slot: 'blue' });
  });

  it('never loads into the serving slot', () => {
    const step = nextStep({ serve: v2, standby: v1, inCohort: true }, onV1, 'dep-1', []);
    assert.deepEqual(step, { kind: 'stage', slot: 'green', model: v2, activate: true });
  });

  it('a vetoed model is not tried again for the same deployment, but is for another', () => {
    const vetoes: Veto[] = [{ deployment_id: 'dep-1', sha256: v2.sha256, reason: 'hash_mismatch' }];
    const target = { serve: v2, standby: v1, inCohort: true };
    assert.deepEqual(nextStep(target, onV1, 'dep-1', vetoes), { kind: 'idle' });
    assert.equal(nextStep(target, onV1, 'dep-2', vetoes).kind, 'stage');
  });

  it('with nothing to serve yet, stages the new model without activating it', () => {
    const target = targetOf(desired({ activate: 'previous', previous: null }), 'cam-1');
    assert.deepEqual(nextStep(target, empty, 'dep-1', []), {
      kind: 'stage',
      slot: 'blue',
      model: v2,
      activate: false,
    });
    const staged: SlotsView = { active: null, blue: v2, green: null };
    assert.deepEqual(nextStep(target, staged, 'dep-1', []), { kind: 'idle' });
    assert.equal(
      phaseOf(desired({ activate: 'previous', previous: null }), staged, [], false).phase,
      'staged',
    );
    const go = targetOf(desired({ activate: 'new', previous: null }), 'cam-1');
    assert.deepEqual(nextStep(go, staged, 'dep-1', []), { kind: 'activate', slot: 'blue' });
  });
});

describe('phaseOf', () => {
  const d = desired({});
  it('reports active, staged, notified and rolled_back from the slots', () => {
    assert.equal(phaseOf(d, { active: 'green', blue: v1, green: v2 }, [], true).phase, 'active');
    assert.equal(phaseOf(d, { active: 'blue', blue: v1, green: v2 }, [], false).phase, 'staged');
    assert.equal(
      phaseOf(d, { active: 'blue', blue: v1, green: v2 }, [], true).phase,
      'rolled_back',
    );
    assert.equal(phaseOf(d, onV1, [], false).phase, 'notified');
  });

  it('reports failed with the veto reason while the model does not serve', () => {
    const vetoes: Veto[] = [
      { deployment_id: 'dep-1', sha256: v2.sha256, reason: 'bad_signature', detail: 'x' },
    ];
    assert.deepEqual(phaseOf(d, onV1, vetoes, false), {
      phase: 'failed',
      reason: 'bad_signature',
      detail: 'x',
    });
    const burst: Veto[] = [{ deployment_id: 'dep-1', sha256: v2.sha256, reason: 'error_burst' }];
    assert.equal(
      phaseOf(d, { active: 'blue', blue: v1, green: v2 }, burst, true).phase,
      'rolled_back',
    );
  });
});

describe('withServed', () => {
  it('adds a key once, last, keeping the newest 50', () => {
    assert.deepEqual(withServed([], 'd:a'), ['d:a']);
    const served = ['d:a', 'd:b'];
    assert.deepEqual(withServed(served, 'd:a'), ['d:a', 'd:b']);
    assert.deepEqual(served, ['d:a', 'd:b'], 'the input stays as it was');
    const many = Array.from({ length: 50 }, (_, i) => `d:${i}`);
    const next = withServed(many, 'd:new');
    assert.equal(next.length, 50);
    assert.equal(next[0], 'd:1');
    assert.equal(next.at(-1), 'd:new');
  });
});
