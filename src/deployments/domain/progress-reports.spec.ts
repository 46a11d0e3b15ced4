import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressOf } from './progress-reports.js';

describe('progressOf: the deployment progress of a state report', () => {
  it('reads the top level (default) and every named model', () => {
    const reported = {
      deployment: { deployment_id: 'd-default', phase: 'active' },
      models: {
        classifier: {
          active_slot: 'blue',
          slots: {},
          deployment: { deployment_id: 'd-cls', phase: 'staged' },
        },
        detector: { active_slot: null, slots: {}, deployment: null },
      },
    };
    assert.deepEqual(
      progressOf(reported).map((p) => [p.deployment_id, p.phase]),
      [
        ['d-default', 'active'],
        ['d-cls', 'staged'],
      ],
    );
  });

  it('a named model alone (no default deployment) still counts', () => {
    const reported = {
      deployment: null,
      models: { classifier: { deployment: { deployment_id: 'd-cls', phase: 'downloading' } } },
    };
    assert.deepEqual(
      progressOf(reported).map((p) => p.deployment_id),
      ['d-cls'],
    );
  });

  it('an older agent (no models) and progress without a deployment id', () => {
    assert.deepEqual(progressOf({ deployment: { deployment_id: null, phase: 'active' } }), []);
    assert.deepEqual(progressOf(null), []);
    assert.deepEqual(progressOf({}), []);
  });
});
