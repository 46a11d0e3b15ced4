import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cohortBucket } from '@sentinel/broker';
import {
  evaluate,
  isCanaryMember,
  retryDelayS,
  type DeploymentView,
  type DeviceView,
  type RolloutPolicy,
} from './rollout.js';

const T0 = new Date('2026-11-29T10:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

const policy: RolloutPolicy = {
  stagingTimeoutS: 600,
  deviceTimeoutS: 300,
  minStagedShare: 0.8,
  maxFailureShare: 0.2,
  maxRetries: 2,
  retryBackoffS: 10,
  canarySteps: [5, 25, 100],
  stepIntervalS: 60,
};

function blueGreen(status: DeploymentView['status'] = 'staging'): DeploymentView {
  return {
    type: 'blue-green',
    status,
    stepIndex: 0,
    cohortSalt: 's',
    stepStartedAt: T0,
    observingSince: null,
    policy,
  };
}

function device(
  id: string,
  phase: DeviceView['phase'],
  extra: Partial<DeviceView> = {},
): DeviceView {
  return { id, online: true, phase, reason: null, phaseSince: T0, attempts: 0, ...extra };
}

describe('blue/green staging', () => {
  it('cuts over once every online device has staged; offline ones do not hold it back', () => {
    const devices = [
      device('a', 'staged'),
      device('b', 'staged'),
      device('c', 'downloading'),
      device('d', null, { online: false }),
    ];
    assert.equal(evaluate(blueGreen(), devices, at(10)).decision.kind, 'wait');
    devices[2] = device('c', 'staged');
    const result = evaluate(blueGreen(), devices, at(20));
    assert.equal(result.decision.kind, 'cutover');
    assert.equal(result.counts.online, 3);
    assert.equal(result.counts.byPhase.staged, 3);
    assert.equal(result.counts.byPhase.unreported, 1);
  });

  it('waits while no target device is online, and fails at the staging timeout; an empty group cuts over', () => {
    const offline = [device('a', null, { online: false }), device('b', null, { online: false })];
    assert.equal(evaluate(blueGreen(), offline, at(10)).decision.kind, 'wait');
    const late = evaluate(blueGreen(), offline, at(600));
    assert.equal(late.decision.kind, 'fail');
    assert.equal((late.decision as { reason: string }).reason, 'staging_timeout');
    assert.equal(evaluate(blueGreen(), [], at(1)).decision.kind, 'cutover');
    assert.equal(evaluate(blueGreen('in_progress'), offline, at(1)).decision.kind, 'wait');
    assert.equal(evaluate(blueGreen('in_progress'), [], at(1)).decision.kind, 'succeed');
  });

  it('fails when every device failed (a corrupt model): nothing staged', () => {
    const devices = ['a', 'b', 'c', 'd'].map((id) =>
      device(id, 'failed', { reason: 'hash_mismatch' }),
    );
    const result = evaluate(blueGreen(), devices, at(5));
    assert.deepEqual(
      { kind: result.decision.kind, reason: (result.decision as { reason: string }).reason },
      { kind: 'fail', reason: 'staging_failed' },
    );
    assert.equal(result.counts.failedFinal, 4);
  });

  it('a failed device does not hold the fleet back while the staged share meets the policy', () => {
    // 9 of 10 staged = 90 % >= 80 %: cut over; the failed one is listed, not waited for.
    const devices = [
      ...Array.from({ length: 9 }, (_, i) => device(`s${i}`, 'staged')),
      device('f', 'failed', { reason: 'health_check' }),
    ];
    assert.equal(evaluate(blueGreen(), devices, at(5)).decision.kind, 'cutover');
    // 3 of 4 = 75 % < 80 %: fail.
    const few = [
      device('a', 'staged'),
      device('b', 'staged'),
      device('c', 'staged'),
      device('d', 'failed', { reason: 'bad_signature' }),
    ];
    assert.equal(evaluate(blueGreen(), few, at(5)).decision.kind, 'fail');
  });

  it('after the staging timeout, cuts over with enough staged, else fails', () => {
    const devices = [
      ...Array.from({ length: 8 }, (_, i) => device(`s${i}`, 'staged')),
      device('x', 'notified', { phaseSince: at(500) }),
      device('y', 'notified', { phaseSince: at(500) }),
    ];
    assert.equal(evaluate(blueGreen(), devices, at(599)).decision.kind, 'wait');
    assert.equal(evaluate(blueGreen(), devices, at(600)).decision.kind, 'cutover'); // 8/10 = 80 %
    const slow = devices.slice(2); // 6 staged of 8 = 75 %
    const result = evaluate(blueGreen(), slow, at(600));
    assert.equal(result.decision.kind, 'fail');
    assert.equal((result.decision as { reason: string }).reason, 'staging_timeout');
  });

  it('times out a device stuck downloading, then retries it with backoff, up to the limit', () => {
    const stuck = device('a', 'downloading', { phaseSince: T0 });
    const timedOut = evaluate(blueGreen(), [stuck, device('b', 'staged')], at(301));
    assert.deepEqual(timedOut.timeouts, ['a']);
    assert.equal(timedOut.counts.byPhase.failed, 1);
    // Recorded as failed: timeout at 301 s; the first retry waits retryBackoffS * 2^0 = 10 s.
    const failed = device('a', 'failed', { reason: 'timeout', phaseSince: at(301) });
    assert.deepEqual(evaluate(blueGreen(), [failed], at(310)).retries, []);
    assert.deepEqual(evaluate(blueGreen(), [failed], at(311)).retries, ['a']);
    // Second attempt waits 20 s; after maxRetries (2) it is final and counts against the share.
    assert.equal(retryDelayS(policy, 1), 20);
    const exhausted = device('a', 'failed', {
      reason: 'download_failed',
      attempts: 2,
      phaseSince: T0,
    });
    const final = evaluate(blueGreen(), [exhausted, device('b', 'staged')], at(1000));
    assert.deepEqual(final.retries, []);
    assert.equal(final.counts.failedFinal, 1);
  });

  it('never retries a failure that cannot pass (hash mismatch)', () => {
    const d = device('a', 'failed', { reason: 'hash_mismatch', phaseSince: T0 });
    assert.deepEqual(evaluate(blueGreen(), [d], at(10_000)).retries, []);
  });
});

describe('blue/green after the cutover', () => {
  it('succeeds when every online device is active', () => {
    const view = blueGreen('in_progress');
    assert.equal(
      evaluate(view, [device('a', 'active'), device('b', 'staged')], at(1)).decision.kind,
      'wait',
    );
    assert.equal(
      evaluate(view, [device('a', 'active'), device('b', 'active')], at(2)).decision.kind,
      'succeed',
    );
  });

  it('observes for observeS once every device is active, then succeeds on a healthy verdict', () => {
    const observed = { ...blueGreen('in_progress'), policy: { ...policy, observeS: 300 } };
    const active = [device('a', 'active'), device('b', 'active')];
    // Every device active: the observation starts (the rules judge meanwhile).
    assert.equal(evaluate(observed, active, at(20), 'inconclusive').decision.kind, 'observe');
    const observing = { ...observed, observingSince: at(20) };
    const waiting = evaluate(observing, active, at(200), 'healthy').decision;
    assert.deepEqual(waiting, { kind: 'wait', why: 'observing: health healthy, 120 s left' });
    assert.equal(evaluate(observing, active, at(320), 'healthy').decision.kind, 'succeed');
    // Degraded: the rules module rolls back (or pauses); the driver only waits.
    assert.equal(evaluate(observing, active, at(320), 'degraded').decision.kind, 'wait');
    // Without rules (verdict null) or with observeS 0, nothing to observe.
    assert.equal(evaluate(observed, active, at(20), null).decision.kind, 'succeed');
    const off = { ...observed, policy: { ...policy, observeS: 0 } };
    assert.equal(evaluate(off, active, at(20), 'inconclusive').decision.kind, 'succeed');
  });

  it('an observation that ends inconclusive succeeds with a warning, or pauses if the policy says so', () => {
    const active = [device('a', 'active')];
    const view = {
      ...blueGreen('in_progress'),
      observingSince: at(0),
      policy: { ...policy, observeS: 60 },
    };
    const ended = evaluate(view, active, at(61), 'inconclusive').decision;
    assert.equal(ended.kind, 'succeed');
    assert.match((ended as { warning?: string }).warning ?? '', /ended without a healthy verdict/);
    const strict = { ...view, policy: { ...view.policy, observeInconclusive: 'pause' as const } };
    assert.equal(evaluate(strict, active, at(61), 'inconclusive').decision.kind, 'pause');
  });

  it('fails when more than maxFailureShare of the online devices failed for good', () => {
    // 1 of 4 = 25 % > 20 %.
    const view = blueGreen('in_progress');
    const devices = [
      device('a', 'active'),
      device('b', 'active'),
      device('c', 'active'),
      device('d', 'rolled_back', { reason: 'error_burst' }),
    ];
    assert.equal(evaluate(view, devices, at(1)).decision.kind, 'fail');
  });
});

describe('canary', () => {
  const canary = (
    stepIndex: number,
    status: DeploymentView['status'] = 'in_progress',
  ): DeploymentView => ({
    type: 'canary',
    status,
    stepIndex,
    cohortSalt: 'salt-1',
    stepStartedAt: T0,
    observingSince: null,
    policy: { ...policy, canarySteps: [50, 100] },
  });

  it('counts only the cohort of the current step, as the devices compute it', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `cam-${i}`);
    const members = ids.filter((id) => cohortBucket('salt-1', id) < 5000);
    assert.deepEqual(
      ids.filter((id) => isCanaryMember(id, canary(0))),
      members,
    );
    const result = evaluate(
      canary(0),
      ids.map((id) => device(id, 'notified')),
      at(1),
    );
    assert.equal(result.counts.participating, members.length);
    assert.equal(result.counts.targets, 40);
  });

  it('advances after the interval once the cohort is active, and succeeds at 100 %', () => {
    const ids = Array.from({ length: 20 }, (_, i) => `cam-${i}`);
    const devices = ids.map((id) =>
      device(id, isCanaryMember(id, canary(0)) ? 'active' : 'notified'),
    );
    assert.equal(evaluate(canary(0), devices, at(59)).decision.kind, 'wait');
    assert.deepEqual(evaluate(canary(0), devices, at(60)).decision, {
      kind: 'advance',
      stepIndex: 1,
      why: evaluate(canary(0), devices, at(60)).decision.why,
    });
    assert.equal(evaluate(canary(1), devices, at(61)).decision.kind, 'wait');
    const all = ids.map((id) => device(id, 'active'));
    assert.equal(evaluate(canary(1), all, at(62)).decision.kind, 'succeed');
  });

  it('holds on an inconclusive or degraded health verdict and advances on a healthy one', () => {
    const devices = ['a', 'b', 'c'].map((id) => device(id, 'active'));
    const view = { ...canary(0), policy: { ...policy, canarySteps: [100, 100] } };
    assert.equal(evaluate(view, devices, at(100), 'inconclusive').decision.kind, 'wait');
    assert.equal(evaluate(view, devices, at(100), 'degraded').decision.kind, 'wait');
    assert.equal(evaluate(view, devices, at(100), 'healthy').decision.kind, 'advance');
  });

  it('observes its last step (100 %) like a blue/green cutover', () => {
    const all = ['a', 'b'].map((id) => device(id, 'active'));
    const last = { ...canary(1), policy: { ...canary(1).policy, observeS: 120 } };
    assert.equal(evaluate(last, all, at(5), 'inconclusive').decision.kind, 'observe');
    const observing = { ...last, observingSince: at(5) };
    assert.equal(evaluate(observing, all, at(100), 'healthy').decision.kind, 'wait');
    assert.equal(evaluate(observing, all, at(126), 'healthy').decision.kind, 'succeed');
  });

  it('does nothing while paused', () => {
    const devices = ['a'].map((id) => device(id, 'active'));
    assert.equal(evaluate(canary(0, 'paused'), devices, at(1000)).decision.kind, 'wait');
  });
});

describe('a rate-limited rollout', () => {
  // Devices sorted by their bucket: the rate limit notifies them in this order.
  const ids = Array.from({ length: 10 }, (_, i) => `cam-${i}`).sort(
    (a, b) => cohortBucket('s', a) - cohortBucket('s', b),
  );
  /** The cohort percentage that holds the first `n` devices of `ids`. */
  const notifying = (n: number) => (n === 0 ? 0 : (cohortBucket('s', ids[n - 1]!) + 1) / 100);

  it('does not cut over while devices wait for their notification, though all told have staged', () => {
    const view = { ...blueGreen(), notifiedPercent: notifying(4) };
    const devices = ids.map((id, i) => device(id, i < 4 ? 'staged' : 'notified'));
    const result = evaluate(view, devices, at(10));
    assert.equal(result.decision.kind, 'wait');
    assert.match(result.decision.why, /rate limit: 4 of 10 devices notified/);
    assert.equal(result.counts.participating, 4);
    const all = evaluate(
      { ...view, notifiedPercent: 100 },
      devices.map((d) => ({ ...d, phase: 'staged' as const })),
      at(20),
    );
    assert.equal(all.decision.kind, 'cutover');
  });

  it('neither times out nor retries a device it has not told yet', () => {
    const view = { ...blueGreen(), notifiedPercent: notifying(2) };
    // Every device reports `notified` (outside the cohort too), long past the device timeout.
    const devices = ids.map((id) => device(id, 'notified'));
    const result = evaluate(view, devices, at(policy.deviceTimeoutS + 1));
    assert.deepEqual(result.timeouts.sort(), ids.slice(0, 2).sort());
  });

  it('holds a canary step until its whole cohort is told, failures still fail it', () => {
    const view: DeploymentView = {
      ...blueGreen('in_progress'),
      type: 'canary',
      stepIndex: 2, // 100 %
      notifiedPercent: notifying(5),
    };
    const devices = ids.map((id, i) => device(id, i < 5 ? 'active' : 'notified'));
    const waiting = evaluate(view, devices, at(600), 'healthy');
    assert.equal(waiting.decision.kind, 'wait');
    assert.match(waiting.decision.why, /5 of 10 devices notified/);
    devices[0] = device(ids[0]!, 'failed', { reason: 'hash_mismatch' });
    devices[1] = device(ids[1]!, 'failed', { reason: 'hash_mismatch' });
    const failing = evaluate(view, devices, at(600), 'healthy');
    assert.equal(failing.decision.kind, 'fail', '2 of 5 told failed: 40 % > 20 %');
  });
});

describe('shadow verification before the cutover', () => {
  const shadowPolicy: RolloutPolicy = {
    ...policy,
    shadow: { sampleRate: 0.1, durationS: 60, minAgreement: 0.9 },
  };
  const staged = ['a', 'b', 'c'].map((id) => device(id, 'staged'));
  const view = (shadowSince: Date | null): DeploymentView => ({
    ...blueGreen(),
    policy: shadowPolicy,
    shadowSince,
  });

  it('starts the shadow phase, instead of the cutover, once every online device staged', () => {
    const result = evaluate(view(null), staged, at(10), 'inconclusive');
    assert.equal(result.decision.kind, 'shadow');
    assert.match(result.decision.why, /shadow verification for 60 s/);
  });

  it('waits out the phase, and never cuts over on a degraded verdict (the rules stop it)', () => {
    assert.equal(evaluate(view(at(10)), staged, at(30), 'healthy').decision.kind, 'wait');
    const degraded = evaluate(view(at(10)), staged, at(100), 'degraded').decision;
    assert.equal(degraded.kind, 'wait');
    assert.match(degraded.why, /degraded \(the rules module decides\)/);
  });

  it('cuts over on a healthy verdict at the end, pauses on an inconclusive one', () => {
    const healthy = evaluate(view(at(10)), staged, at(71), 'healthy').decision;
    assert.equal(healthy.kind, 'cutover');
    assert.match(healthy.why, /shadow verification healthy after 60 s/);
    const unsure = evaluate(view(at(10)), staged, at(71), 'inconclusive').decision;
    assert.equal(unsure.kind, 'pause');
    assert.match(unsure.why, /ended inconclusive/);
    // Rules off: nothing to wait for once the phase is over.
    assert.equal(evaluate(view(at(10)), staged, at(71), null).decision.kind, 'cutover');
  });

  it('a canary with shadow stages its first cohort only, then starts its first step', () => {
    const ids = Array.from({ length: 20 }, (_, i) => `cam-${i}`);
    const canary: DeploymentView = {
      ...view(null),
      type: 'canary',
      cohortSalt: 's',
      policy: { ...shadowPolicy, canarySteps: [50, 100] },
    };
    // Only the 50 % cohort stages: the others do nothing and do not hold it back.
    const devices = ids.map((id) => device(id, isCanaryMember(id, canary) ? 'staged' : 'notified'));
    const result = evaluate(canary, devices, at(10), 'inconclusive');
    assert.equal(result.decision.kind, 'shadow');
    assert.equal(
      result.counts.participating,
      ids.filter((id) => isCanaryMember(id, canary)).length,
    );
  });
});
