import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LockRequestError, UpdateLock } from './update-lock.js';

describe('UpdateLock', () => {
  const T0 = Date.UTC(2026, 11, 7, 12);

  it('takes, refreshes and releases the lock, telling the agent each time', () => {
    let now = T0;
    let changes = 0;
    const lock = new UpdateLock(
      () => (changes += 1),
      () => now,
    );
    assert.equal(lock.view(), null);
    lock.take({ reason: 'recording' });
    assert.deepEqual(lock.view(), { reason: 'recording', expiresAt: null });
    now += 5_000;
    // A refresh keeps when it was first taken.
    assert.deepEqual(lock.take({ reason: 'recording', ttl_s: 60 }), {
      reason: 'recording',
      since: new Date(T0).toISOString(),
      expires_at: new Date(T0 + 65_000).toISOString(),
    });
    assert.equal(lock.release(), true);
    assert.equal(lock.release(), false);
    assert.equal(lock.view(), null);
    assert.equal(changes, 4);
  });

  it('lapses when its TTL passes (an application that crashed holds it no longer)', () => {
    let now = T0;
    const lock = new UpdateLock(
      () => undefined,
      () => now,
    );
    lock.take({ reason: 'recording', ttl_s: 30 });
    now += 29_999;
    assert.notEqual(lock.view(), null);
    now += 1;
    assert.equal(lock.view(), null);
    assert.equal(lock.status(), null);
  });

  it('refuses bad bodies with a message saying what is expected', () => {
    const lock = new UpdateLock(() => undefined);
    const bad: [unknown, RegExp][] = [
      [null, /body must be/],
      [[], /body must be/],
      [{}, /reason must be/],
      [{ reason: '' }, /reason must be/],
      [{ reason: 'x'.repeat(201) }, /at most 200/],
      [{ reason: 'recording', ttl_s: 0 }, /ttl_s must be/],
      [{ reason: 'recording', ttl_s: '60' }, /ttl_s must be/],
      [{ reason: 'recording', until: 'later' }, /unknown field until/],
    ];
    for (const [body, message] of bad) {
      assert.throws(
        () => lock.take(body),
        (e: Error) => e instanceof LockRequestError && message.test(e.message),
      );
    }
    assert.equal(lock.view(), null);
  });
});
