import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COHORT_BUCKETS, cohortBucket, inCohort } from './cohort.js';

const ids = Array.from({ length: 10_000 }, (_, i) => `cam-${String(i).padStart(5, '0')}`);

describe('cohort', () => {
  it('matches the worked example of docs/protocol.md', () => {
    // sha256("canary-2024:cam-0001") starts with e233cc45 = 3795045445; 3795045445 mod 10000 = 5445.
    assert.equal(cohortBucket('canary-2024', 'cam-0001'), 5445);
    assert.equal(inCohort('cam-0001', { percent: 54.45, salt: 'canary-2024' }), false);
    assert.equal(inCohort('cam-0001', { percent: 54.46, salt: 'canary-2024' }), true);
    assert.equal(inCohort('cam-0001', { percent: 60, salt: 'canary-2024' }), true);
    assert.equal(inCohort('cam-0001', { percent: 50, salt: 'canary-2024' }), false);
  });

  it('is a pure function of salt and device id', () => {
    assert.equal(cohortBucket('s', 'cam-1'), cohortBucket('s', 'cam-1'));
    // The separator matters: "a:bc" and "ab:c" are different inputs.
    assert.notEqual(cohortBucket('a', 'bc'), cohortBucket('ab', 'c'));
  });

  it('stays within [0, 10000)', () => {
    for (const id of ids.slice(0, 2000)) {
      const bucket = cohortBucket('range', id);
      assert.ok(Number.isInteger(bucket) && bucket >= 0 && bucket < COHORT_BUCKETS, `${bucket}`);
    }
  });

  it('takes everyone when the cohort is null, nobody at 0 % and everyone at 100 %', () => {
    assert.equal(inCohort('cam-1', null), true);
    assert.equal(
      ids.some((id) => inCohort(id, { percent: 0, salt: 'x' })),
      false,
    );
    assert.equal(
      ids.every((id) => inCohort(id, { percent: 100, salt: 'x' })),
      true,
    );
  });

  for (const percent of [5, 25, 50, 100]) {
    it(`puts about ${percent} % of 10,000 ids in a ${percent} % cohort`, () => {
      const members = ids.filter((id) => inCohort(id, { percent, salt: 'dist-check' })).length;
      const share = (members / ids.length) * 100;
      assert.ok(Math.abs(share - percent) < 2, `${share.toFixed(2)} % for ${percent} %`);
    });
  }

  it('is monotone: growing the percentage only adds devices', () => {
    const salt = 'monotone';
    const steps = [1, 5, 25, 50, 75, 100];
    for (const id of ids) {
      const memberships = steps.map((percent) => inCohort(id, { percent, salt }));
      const firstIn = memberships.indexOf(true);
      if (firstIn >= 0) assert.ok(memberships.slice(firstIn).every(Boolean), id);
    }
  });

  it('changing the salt reshuffles the cohort', () => {
    const a = new Set(ids.filter((id) => inCohort(id, { percent: 10, salt: 'one' })));
    const b = ids.filter((id) => inCohort(id, { percent: 10, salt: 'two' }));
    const overlap = b.filter((id) => a.has(id)).length / b.length;
    // Independent 10 % samples overlap by about 10 %.
    assert.ok(overlap < 0.2, `overlap ${overlap}`);
  });
});
