import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressOf, progressRows, progressSignature } from './progress-reports.js';

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

describe('progressRows: the rows a batch of state reports writes', () => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  const report = (deviceId: string, s: number, phase: string, deployment = 'dep') => ({
    deviceId,
    at: at(s),
    reported: { deployment: { deployment_id: deployment, phase, bytes: 10 } },
  });

  it('keeps the latest report per deployment and device, of tracked deployments only', () => {
    const rows = progressRows(
      [
        report('cam-1', 1, 'notified'),
        report('cam-2', 1, 'notified'),
        report('cam-1', 2, 'staged'),
        report('cam-3', 2, 'active', 'old'),
      ],
      (id) => id === 'dep',
    );
    assert.deepEqual(
      rows.map((r) => [r.device_id, r.phase, r.at]),
      [
        ['cam-1', 'staged', at(2).toISOString()],
        ['cam-2', 'notified', at(1).toISOString()],
      ],
    );
    assert.equal(rows[0]!.bytes, 10);
    assert.equal(rows[0]!.reason, null);
  });

  it('a signature says what a row writes, its time aside', () => {
    const [a] = progressRows([report('cam-1', 1, 'staged')], () => true);
    const [b] = progressRows([report('cam-1', 9, 'staged')], () => true);
    const [c] = progressRows([report('cam-1', 9, 'active')], () => true);
    assert.equal(progressSignature(a!), progressSignature(b!));
    assert.notEqual(progressSignature(a!), progressSignature(c!));
  });
});
