import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  abortDecision,
  abortOutcome,
  checkAbortPolicy,
  failureTypeOf,
  type AbortPolicy,
} from './abort.js';
import { evaluate, type DeploymentView, type DeviceView, type RolloutPolicy } from './rollout.js';

const T0 = new Date('2026-11-29T10:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

const verification = (thresholdPercent: number, minDevicesDone: number): AbortPolicy => ({
  criteria: [{ failureType: 'verification', thresholdPercent, minDevicesDone }],
  action: 'rollback',
});
const ok = { phase: 'active' as const, reason: null, final: true };
const badHash = { phase: 'failed' as const, reason: 'hash_mismatch', final: true };
const badDownload = { phase: 'failed' as const, reason: 'download_failed', final: true };

describe('abort criteria', () => {
  it('maps every failure reason of the protocol to its type', () => {
    assert.equal(failureTypeOf('failed', 'download_failed'), 'download');
    assert.equal(failureTypeOf('failed', 'disk_full'), 'download');
    assert.equal(failureTypeOf('failed', 'bad_signature'), 'verification');
    assert.equal(failureTypeOf('failed', 'load_error'), 'health_check');
    assert.equal(failureTypeOf('failed', 'timeout'), 'timeout');
    assert.equal(failureTypeOf('rolled_back', 'error_burst'), 'rolled_back');
    assert.equal(failureTypeOf('active', null), null);
  });

  it('does not apply before the minimum of devices done, then aborts at the threshold', () => {
    const policy = verification(50, 4);
    assert.equal(abortOutcome(policy, [badHash, badHash, ok]), null, '3 done < 4');
    const outcome = abortOutcome(policy, [badHash, badHash, ok, ok]);
    assert.ok(outcome);
    assert.equal(outcome.failed, 2);
    assert.equal(outcome.done, 4);
    assert.match(
      outcome.why,
      /2 of 4 devices done failed with verification \(50 %, threshold 50 %/,
    );
    assert.equal(abortOutcome(policy, [badHash, ok, ok, ok]), null, '25 % < 50 %');
  });

  it('counts only its own failure type, and "any" counts every final failure', () => {
    assert.equal(abortOutcome(verification(10, 1), [badDownload, badDownload, ok]), null);
    const any: AbortPolicy = {
      criteria: [{ failureType: 'any', thresholdPercent: 60, minDevicesDone: 1 }],
      action: 'pause',
    };
    assert.equal(abortOutcome(any, [badDownload, badHash, ok])?.failed, 2);
  });

  it('does not count a failure that will be retried, nor devices still on their way', () => {
    const retrying = { ...badDownload, final: false };
    const working = { phase: 'downloading' as const, reason: null, final: false };
    const policy: AbortPolicy = {
      criteria: [{ failureType: 'download', thresholdPercent: 50, minDevicesDone: 2 }],
      action: 'rollback',
    };
    assert.equal(abortOutcome(policy, [retrying, retrying, working, ok]), null);
  });

  it('fails (rollback) or pauses, and counts from the last resume only', () => {
    const policy = verification(50, 1);
    const devices = [
      { ...badHash, phaseSince: at(10) },
      { ...ok, phaseSince: at(20) },
    ];
    assert.equal(abortDecision(policy, null, devices)?.kind, 'fail');
    assert.equal(abortDecision({ ...policy, action: 'pause' }, null, devices)?.kind, 'pause');
    assert.equal(
      abortDecision(policy, at(15), devices),
      null,
      'the failure came before the resume',
    );
    assert.equal(abortDecision(undefined, null, devices), null);
  });

  it('refuses a policy without criteria or with one type twice', () => {
    assert.match(checkAbortPolicy({ criteria: [], action: 'rollback' }) ?? '', /at least one/);
    const twice = verification(10, 1);
    twice.criteria.push({ ...twice.criteria[0]! });
    assert.match(checkAbortPolicy(twice) ?? '', /verification twice/);
  });
});

describe('abort criteria in the rollout evaluation', () => {
  const policy: RolloutPolicy = {
    stagingTimeoutS: 600,
    deviceTimeoutS: 300,
    minStagedShare: 0.8,
    maxFailureShare: 1,
    maxRetries: 2,
    retryBackoffS: 10,
    canarySteps: [50, 100],
    stepIntervalS: 60,
    abort: verification(30, 3),
  };
  const view = (status: DeploymentView['status']): DeploymentView => ({
    type: 'blue-green',
    status,
    stepIndex: 0,
    cohortSalt: 's',
    stepStartedAt: T0,
    observingSince: null,
    policy,
  });
  const device = (
    id: string,
    phase: DeviceView['phase'],
    reason: string | null = null,
  ): DeviceView => ({
    id,
    online: true,
    phase,
    reason,
    phaseSince: T0,
    attempts: 0,
  });

  it('stops a staging blue/green before its cutover once the criterion is met', () => {
    const devices = [
      device('a', 'staged'),
      device('b', 'failed', 'hash_mismatch'),
      device('c', 'downloading'),
      device('d', 'downloading'),
    ];
    assert.equal(evaluate(view('staging'), devices, at(5)).decision.kind, 'wait', '2 done < 3');
    devices[2] = device('c', 'staged');
    const decision = evaluate(view('staging'), devices, at(6)).decision;
    assert.deepEqual(decision.kind === 'fail' && decision.reason, 'abort_criteria');
  });

  it('leaves a paused deployment alone', () => {
    const devices = [
      device('a', 'failed', 'hash_mismatch'),
      device('b', 'failed', 'hash_mismatch'),
      device('c', 'staged'),
    ];
    assert.equal(evaluate(view('paused'), devices, at(5)).decision.kind, 'wait');
  });
});
