import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DesiredState, ModelRef } from '@sentinel/broker/protocol';
import { swapDecision, type SwapQuestion } from './deferral.js';
import type { SlotsView } from './plan.js';

function model(version: string): ModelRef {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    name: 'det',
    version,
    sha256: version.replace(/\D/g, '').padEnd(64, '0'),
    size: 10,
    url: 'http://hub/a',
    signature: null,
  };
}

const v1 = model('1.0.0');
const v2 = model('2.0.0');
const T0 = Date.UTC(2026, 11, 7, 12);

function desired(fields: Partial<DesiredState> = {}): DesiredState {
  return {
    deployment_id: 'dep-1',
    seq: 2,
    strategy: 'blue-green',
    model: v2,
    previous: v1,
    activate: 'new',
    cohort: null,
    issued_at: '2026-12-07T12:00:00Z',
    ...fields,
  };
}

// v1 serves from blue, v2 is staged in green: the swap to v2 is the question.
const staged: SlotsView = { active: 'blue', blue: v1, green: v2 };
const recording = { reason: 'recording', expiresAt: null };

function ask(fields: Partial<SwapQuestion> = {}) {
  return swapDecision({
    desired: desired(),
    model: v2,
    slots: staged,
    lock: recording,
    firstDeferredAt: null,
    now: T0,
    ...fields,
  });
}

describe('swapDecision', () => {
  it('swaps when the application holds no lock', () => {
    assert.equal(ask({ lock: null }).kind, 'swap');
  });

  it('defers the swap to the new model while the lock is held, with the application reason', () => {
    assert.deepEqual(ask(), { kind: 'defer', until: null, detail: 'recording' });
  });

  it('decides again when the lock expires (its TTL), and swaps once it has', () => {
    const lock = { reason: 'recording', expiresAt: T0 + 30_000 };
    assert.deepEqual(ask({ lock }), { kind: 'defer', until: T0 + 30_000, detail: 'recording' });
    assert.equal(ask({ lock, now: T0 + 30_000 }).kind, 'swap');
  });

  it('defers at most max_deferral_s, counted from the first deferral of this deployment', () => {
    const d = desired({ max_deferral_s: 60 });
    assert.deepEqual(ask({ desired: d }), {
      kind: 'defer',
      until: T0 + 60_000,
      detail: 'recording',
    });
    // 50 s after the first deferral: 10 s left, whatever the time of this question.
    const later = ask({ desired: d, firstDeferredAt: T0, now: T0 + 50_000 });
    assert.deepEqual(later, { kind: 'defer', until: T0 + 60_000, detail: 'recording' });
    const over = ask({ desired: d, firstDeferredAt: T0, now: T0 + 60_000 });
    assert.equal(over.kind, 'swap');
    assert.match(over.why, /maximum deferral \(60 s\)/);
  });

  it('takes the earlier of lock expiry and maximum deferral as the time to decide again', () => {
    const d = desired({ max_deferral_s: 60 });
    const lock = { reason: 'recording', expiresAt: T0 + 10_000 };
    assert.deepEqual(ask({ desired: d, lock }), {
      kind: 'defer',
      until: T0 + 10_000,
      detail: 'recording',
    });
  });

  it('does not defer when the deployment allows no deferral (max_deferral_s 0)', () => {
    assert.equal(ask({ desired: desired({ max_deferral_s: 0 }) }).kind, 'swap');
  });

  it('never defers a rollback: activate "previous" swaps back to the previous model at once', () => {
    const rolledBack: SlotsView = { active: 'green', blue: v1, green: v2 };
    const decision = ask({
      desired: desired({ activate: 'previous' }),
      model: v1,
      slots: rolledBack,
    });
    assert.equal(decision.kind, 'swap');
    assert.match(decision.why, /rollback/);
  });

  it('never defers a swap to a model other than the deployment one (outside the cohort)', () => {
    const back: SlotsView = { active: 'green', blue: v1, green: v2 };
    assert.equal(ask({ model: v1, slots: back }).kind, 'swap');
  });

  it('does not defer the first model of a device that serves nothing yet', () => {
    const empty: SlotsView = { active: null, blue: v2, green: null };
    assert.equal(ask({ slots: empty }).kind, 'swap');
  });
});
