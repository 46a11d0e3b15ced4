import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkGatePolicy, gateProblems, gateRefusal } from './gates.js';

const open = { requiredStage: null, requireSuccessIn: null };
const strict = { requiredStage: 'production' as const, requireSuccessIn: 'staging' };

describe('stage gates', () => {
  it('lets anything through an environment without gates', () => {
    assert.deepEqual(
      gateProblems('lab', open, {
        model: 'detector@1.0.0',
        stage: 'archived',
        succeededThere: false,
      }),
      [],
    );
  });

  it('holds a version in the wrong stage, and one without a success in the earlier environment', () => {
    const problems = gateProblems('production', strict, {
      model: 'detector@2.0.0',
      stage: 'staging',
      succeededThere: false,
    });
    assert.deepEqual(problems, [
      'production takes versions in stage production; detector@2.0.0 is in staging',
      'production takes versions after a succeeded deployment in staging; detector@2.0.0 has none',
    ]);
    assert.match(gateRefusal(problems), /an admin passes override_gates: true\)$/);
  });

  it('lets a version through once both hold', () => {
    assert.deepEqual(
      gateProblems('production', strict, {
        model: 'detector@2.0.0',
        stage: 'production',
        succeededThere: true,
      }),
      [],
    );
  });

  it('refuses a policy that gates nothing, or one that waits on its own environment', () => {
    assert.match(checkGatePolicy('production', open) ?? '', /set required_stage or/);
    assert.match(
      checkGatePolicy('production', { requiredStage: null, requireSuccessIn: 'production' }) ?? '',
      /cannot be the environment itself/,
    );
    assert.equal(checkGatePolicy('production', strict), null);
  });
});
