/**
 * The update lock's decision, as a pure function: may the agent swap to a staged model now, or does
 * it defer the swap because the application holds the update lock (e.g. during a recording)?
 */
import type { DesiredState, ModelRef } from '@sentinel/broker/protocol';
import type { SlotsView } from './plan.js';

/** The application's update lock, as the decision needs it. */
export interface LockView {
  reason: string;
  /** When the lock lapses by itself (its TTL), epoch ms; null: held until released. */
  expiresAt: number | null;
}

export type SwapDecision =
  | { kind: 'swap'; why: string }
  /** `until`: when to decide again at the latest (lock expiry or maximum deferral), epoch ms. */
  | { kind: 'defer'; until: number | null; detail: string };

export interface SwapQuestion {
  desired: DesiredState;
  /** The staged model the swap would make serve. */
  model: ModelRef;
  slots: SlotsView;
  lock: LockView | null;
  /** When this device first deferred this deployment's model, epoch ms; null: not yet. */
  firstDeferredAt: number | null;
  now: number;
}

/**
 * Only a swap towards the deployment's new model waits for the lock. A swap back (a rollback:
 * `activate: "previous"`, a device outside the cohort, a `rollback` command, which does not ask) is
 * the safe direction and never waits; nor does a device with nothing serving yet, which has no
 * work to interrupt. `max_deferral_s` counts from the first deferral of this deployment on this
 * device: 0 disables deferral, absent means "as long as the lock is held".
 */
export function swapDecision(q: SwapQuestion): SwapDecision {
  const { desired, model, slots, lock, now } = q;
  if (!lock) return { kind: 'swap', why: 'no update lock' };
  if (lock.expiresAt !== null && lock.expiresAt <= now) {
    return { kind: 'swap', why: 'the update lock expired' };
  }
  const serving = slots.active !== null && slots[slots.active] !== null;
  if (!serving) return { kind: 'swap', why: 'nothing serves yet' };
  const forward =
    desired.activate === 'new' && desired.model !== null && desired.model.sha256 === model.sha256;
  if (!forward) return { kind: 'swap', why: 'a swap back (rollback) is never deferred' };
  const max = desired.max_deferral_s;
  if (max === 0) return { kind: 'swap', why: 'the deployment allows no deferral' };
  const deadline = max === undefined ? null : (q.firstDeferredAt ?? now) + max * 1000;
  if (deadline !== null && deadline <= now) {
    return { kind: 'swap', why: `the maximum deferral (${max} s) passed` };
  }
  const times = [lock.expiresAt, deadline].filter((t): t is number => t !== null);
  return {
    kind: 'defer',
    until: times.length > 0 ? Math.min(...times) : null,
    detail: lock.reason,
  };
}
