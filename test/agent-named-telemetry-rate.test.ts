// Issue 16 item 5: a device serving 8 named models besides `default` sends 9 telemetry windows per
// interval, all at once. The broker's own limiter (TokenBuckets, docs/protocol.md section 8: a burst
// of 50, 5 per second by default) against an hour of them: no window dropped at the default 10 s
// interval, nor at any interval where the agent's rate check (telemetryPerSecond) stays within the
// limit; past it, the broker drops windows and the agent is right to warn.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MODEL_NAMES, TokenBuckets } from '@sentinel/broker';
import { DEFAULT_TELEMETRY_RATE_PER_S, telemetryPerSecond } from '@sentinel/edge-agent';

/** Windows dropped in an hour of `models` windows every `intervalS`, against the default limit. */
function droppedInAnHour(models: number, intervalS: number): number {
  const buckets = new TokenBuckets({ ratePerSecond: DEFAULT_TELEMETRY_RATE_PER_S, burst: 50 });
  let dropped = 0;
  for (let at = 0; at < 3_600_000; at += intervalS * 1000) {
    for (let i = 0; i < models; i++) if (!buckets.take('cam-1', at)) dropped += 1;
  }
  return dropped;
}

describe('telemetry of 8 + 1 models against the broker rate limit', () => {
  const models = MAX_MODEL_NAMES + 1;

  it('drops nothing at the default 10 s interval', () => {
    assert.equal(droppedInAnHour(models, 10), 0);
  });

  it('drops nothing while the agent rate check holds, and drops past it', () => {
    for (const intervalS of [10, 5, 2, 1.8, 1.5, 1, 0.5]) {
      const within = telemetryPerSecond(models, intervalS) <= DEFAULT_TELEMETRY_RATE_PER_S;
      const dropped = droppedInAnHour(models, intervalS);
      assert.equal(dropped === 0, within, `interval ${intervalS} s: ${dropped} dropped`);
    }
  });
});
