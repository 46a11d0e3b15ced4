import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inCohort } from '@sentinel/broker';
import { creationWarnings, healthVerdictOf, previousModelOf } from './policy.js';
import { DEFAULT_RULES, rulesPolicy } from './rules-policy.js';

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** A salt that puts exactly `count` of `devices` in a `percent` cohort. */
function saltFor(devices: string[], percent: number, count: number): string {
  for (let i = 0; ; i++) {
    const salt = `spec-${i}`;
    if (devices.filter((id) => inCohort(id, { percent, salt })).length === count) return salt;
  }
}

describe('creationWarnings', () => {
  const canary = (devices: string[], steps: number[], salt: string, ranModel = true) =>
    creationWarnings({
      type: 'canary',
      groups: [{ name: 'yard', devices, ranModel }],
      steps,
      salt,
      rules: DEFAULT_RULES,
    });

  it('says nothing for a canary with 5 devices on each side of every step', () => {
    const devices = ids('cam', 40);
    assert.deepEqual(canary(devices, [50, 100], saltFor(devices, 50, 20)), []);
  });

  it('warns about a step that leaves no device outside its cohort, or fewer than 5', () => {
    const pair = ids('pair', 2);
    assert.deepEqual(canary(pair, [50, 100], saltFor(pair, 50, 2)), [
      'canary step 50 % leaves 0 of 2 device(s) outside its cohort (2 in it; a comparison with the others needs 5 on each side): it is judged against the same devices before the step',
    ]);
    const forty = ids('cam', 40);
    const [few] = canary(forty, [5, 100], saltFor(forty, 5, 2));
    assert.match(
      few!,
      /^canary step 5 % leaves 38 of 40 device\(s\) outside its cohort \(2 in it;/,
    );
  });

  it('warns about an empty cohort, which moves on by its interval alone', () => {
    const one = ['solo'];
    assert.deepEqual(canary(one, [50, 100], saltFor(one, 50, 0)), [
      'canary step 50 % has no device in its cohort: nothing to judge, it moves on after its interval',
    ]);
  });

  it('says a group without a previous model is not held, and then nothing about steps', () => {
    const pair = ids('pair', 2);
    assert.deepEqual(canary(pair, [50, 100], saltFor(pair, 50, 2), false), [
      'group yard ran no model before: no baseline to judge against nor to roll back to; the rules do not hold this deployment',
    ]);
  });

  it('warns about a group smaller than min_devices, and not at all with the rules off', () => {
    const input = {
      type: 'blue-green' as const,
      groups: [{ name: 'dock', devices: ids('d', 2), ranModel: true }],
      steps: [100],
      salt: 's',
    };
    assert.deepEqual(creationWarnings({ ...input, rules: rulesPolicy({ min_devices: 3 }) }), [
      'group dock has 2 device(s); the rules need 3 (rules.min_devices) for a verdict',
    ]);
    assert.deepEqual(creationWarnings({ ...input, rules: rulesPolicy({ enabled: false }) }), []);
  });
});

describe('healthVerdictOf', () => {
  const step = new Date(Math.floor(Date.now() / 1000) * 1000);
  const at = (s: number) => new Date(step.getTime() + s * 1000);
  const deployment = (verdict: 'healthy' | 'degraded' | null, verdictAt: Date | null) => ({
    rules: {},
    verdict,
    verdictAt,
    stepStartedAt: step,
  });

  it("is the rules' fresh verdict on this step", () => {
    assert.equal(healthVerdictOf(deployment('healthy', at(5)), at(10), 10), 'healthy');
    assert.equal(healthVerdictOf(deployment('degraded', at(5)), at(10), 10), 'degraded');
  });

  it('is inconclusive without one, with one from before the step, or a stale one', () => {
    assert.equal(healthVerdictOf(deployment(null, null), at(10), 10), 'inconclusive');
    assert.equal(healthVerdictOf(deployment('healthy', at(-1)), at(10), 10), 'inconclusive');
    // Older than three rules intervals and a second.
    assert.equal(healthVerdictOf(deployment('healthy', at(5)), at(36.1), 10), 'inconclusive');
  });

  it('is null with the rules off', () => {
    const off = { ...deployment('degraded', at(5)), rules: { enabled: false } };
    assert.equal(healthVerdictOf(off, at(10), 10), null);
  });
});

describe('previousModelOf', () => {
  const ref = (id: string) => ({ id, name: 'det', version: id, sha256: 'x', size: 1, url: 'u' });
  const desired = (activate: 'new' | 'previous', model: string, previous: string | null) =>
    ({
      deployment_id: 'd',
      strategy: 'blue-green',
      model: ref(model),
      previous: previous ? ref(previous) : null,
      activate,
      cohort: null,
      seq: 1,
      issued_at: '',
    }) as never;

  it('is what the group serves, unless that is the model being deployed', () => {
    assert.equal(previousModelOf(null, 'm2'), null);
    assert.equal(previousModelOf(desired('new', 'm1', null), 'm2'), 'm1');
    assert.equal(previousModelOf(desired('previous', 'm2', 'm1'), 'm3'), 'm1');
    assert.equal(previousModelOf(desired('new', 'm2', 'm1'), 'm2'), 'm1');
  });
});
