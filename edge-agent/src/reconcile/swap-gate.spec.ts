import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DesiredState, ModelRef } from '@sentinel/broker/protocol';
import { SessionPool } from '../inference/session-pool.js';
import { Slots } from '../inference/slots.js';
import { silentLogger } from '../log.js';
import { ErrorLog } from '../report/error-log.js';
import { SlotStore } from './slot-store.js';
import { SwapGate } from './swap-gate.js';

const model = (version: string): ModelRef => ({
  id: '00000000-0000-4000-8000-000000000001',
  name: 'det',
  version,
  sha256: version.replace(/\D/g, '').padEnd(64, '0'),
  size: 10,
  url: 'http://hub/a',
  signature: null,
});
const v1 = model('1.0.0');
const v2 = model('2.0.0');
const desired: DesiredState = {
  deployment_id: 'dep-1',
  seq: 2,
  strategy: 'blue-green',
  model: v2,
  previous: v1,
  activate: 'new',
  cohort: null,
  max_deferral_s: 60,
  issued_at: '2026-12-07T12:00:00Z',
};
const slots = { active: 'blue' as const, blue: v1, green: v2 };
const T0 = Date.UTC(2026, 11, 7, 12);

describe('SwapGate', () => {
  it('counts the maximum deferral from the first deferral, saved in state.json across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swap-gate-'));
    try {
      const store = () =>
        new SlotStore({
          path: join(dir, 'state.json'),
          modelsDir: join(dir, 'models'),
          persist: true,
          slots: new Slots(new SessionPool({ intraOpThreads: 1 })),
          pool: new SessionPool({ intraOpThreads: 1 }),
          errors: new ErrorLog(silentLogger),
        });
      const lock = () => ({ reason: 'recording', expiresAt: null });
      let now = T0;
      const first = new SwapGate(
        store(),
        lock,
        () => undefined,
        silentLogger,
        () => now,
      );
      const deferred = await first.check(desired, v2, slots);
      assert.deepEqual(deferred, {
        phase: 'deferred',
        reason: 'update_locked',
        detail: 'recording',
        deferred_until: new Date(T0 + 60_000).toISOString(),
      });
      first.stop();

      // The agent restarts 30 s later: the deferral still ends 60 s after it began.
      now = T0 + 30_000;
      const restarted = store();
      await restarted.restore();
      const again = new SwapGate(
        restarted,
        lock,
        () => undefined,
        silentLogger,
        () => now,
      );
      assert.equal(
        (await again.check(desired, v2, slots))?.deferred_until,
        new Date(T0 + 60_000).toISOString(),
      );
      now = T0 + 60_000;
      assert.equal(await again.check(desired, v2, slots), null);
      again.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
