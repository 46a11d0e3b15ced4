import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { phaseTimeoutS } from './deferral.js';
import { evaluate, type DeploymentView, type DeviceView, type RolloutPolicy } from './rollout.js';

const policy: RolloutPolicy = {
  stagingTimeoutS: 600,
  deviceTimeoutS: 900,
  minStagedShare: 0.8,
  maxFailureShare: 0.2,
  maxRetries: 3,
  retryBackoffS: 10,
  canarySteps: [5, 25, 100],
  stepIntervalS: 300,
};
const T0 = new Date('2026-12-07T12:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

describe('phaseTimeoutS', () => {
  it('gives working phases the device timeout and done phases none', () => {
    for (const phase of ['notified', 'downloading', 'verifying'] as const)
      assert.equal(phaseTimeoutS(phase, policy), 900);
    for (const phase of ['staged', 'active', 'failed', 'rolled_back', null] as const)
      assert.equal(phaseTimeoutS(phase, policy), null);
  });

  it('extends the device timeout by the maximum deferral for a deferred device', () => {
    assert.equal(phaseTimeoutS('deferred', { ...policy, maxDeferralS: 1800 }), 2700);
  });

  it('never times out a deferred device of a deployment without a maximum deferral', () => {
    assert.equal(phaseTimeoutS('deferred', policy), null);
  });
});

describe('evaluate, with a deferred device', () => {
  // Blue/green after the cutover: cam-1 swapped, cam-2 defers (its application records).
  const view: DeploymentView = {
    type: 'blue-green',
    status: 'in_progress',
    stepIndex: 0,
    cohortSalt: 'salt',
    stepStartedAt: T0,
    observingSince: null,
    policy: { ...policy, maxDeferralS: 1800 },
  };
  const device = (id: string, phase: DeviceView['phase']): DeviceView => ({
    id,
    online: true,
    phase,
    reason: phase === 'deferred' ? 'update_locked' : null,
    phaseSince: T0,
    attempts: 0,
  });
  const devices = [device('cam-1', 'active'), device('cam-2', 'deferred')];

  it('waits for it, neither failing nor timing it out, within the maximum deferral', () => {
    const result = evaluate(view, devices, at(900 + 1800));
    assert.deepEqual(result.timeouts, []);
    assert.equal(result.decision.kind, 'wait');
    assert.equal(result.counts.byPhase.deferred, 1);
    assert.equal(result.counts.failedFinal, 0);
  });

  it('times it out once the device timeout plus the maximum deferral passed', () => {
    const result = evaluate(view, devices, at(900 + 1800 + 1));
    assert.deepEqual(result.timeouts, ['cam-2']);
  });

  it('succeeds once the deferred device took the update', () => {
    const result = evaluate(view, [device('cam-1', 'active'), device('cam-2', 'active')], at(60));
    assert.equal(result.decision.kind, 'succeed');
  });
});
