// Issue 15 item 9: the agent must not allocate whatever input size a model declares. Real ONNX
// models that declare a large input (a ReduceSum over it, a few bytes each); the health check's
// synthetic input is refused over SENTINEL_MAX_INPUT_BYTES (64 MiB by default) before it exists.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SessionPool } from '@sentinel/edge-agent';
import { wideInputModel } from './support/onnx-models.js';
import { serving } from './support/agent-fixture.js';
import { AgentHarness, failedWith } from './support/agent-harness.js';

describe('edge agent: input budget', () => {
  let h: AgentHarness;
  before(async () => {
    h = await new AgentHarness().start();
  });
  after(() => h.stop());

  it('refuses a model declaring a 128 MiB input (too_large) and keeps no session of it', async () => {
    const huge = h.hub.add('wide', '1.0.0', wideInputModel([1, 32, 1024, 1024]));
    const pool = new SessionPool({ intraOpThreads: 1 });
    await h.startAgent('wide-a', 'wide-a', {}, pool);
    await h.broker.publishDesired({ group: 'wide-a' }, { model: huge, deployment_id: 'd-wide' });
    const state = await h.broker.waitForState('wide-a', failedWith('too_large'));
    assert.match(state.deployment?.detail ?? '', /134217728 bytes/);
    assert.match(state.deployment?.detail ?? '', /SENTINEL_MAX_INPUT_BYTES/);
    assert.equal(state.active_slot, null);
    await h.broker.waitFor(() => (pool.size === 0 ? true : undefined));
  });

  it('applies SENTINEL_MAX_INPUT_BYTES: a 4 KiB input is refused over 1 KiB and serves under 4 KiB', async () => {
    const small = h.hub.add('wide', '1.1.0', wideInputModel([1, 1024]));
    await h.startAgent('wide-b', 'wide-b', { SENTINEL_MAX_INPUT_BYTES: '1024' });
    await h.broker.publishDesired({ group: 'wide-b' }, { model: small, deployment_id: 'd-b' });
    await h.broker.waitForState('wide-b', failedWith('too_large'));

    await h.startAgent('wide-c', 'wide-c', { SENTINEL_MAX_INPUT_BYTES: '4096' });
    await h.broker.publishDesired({ group: 'wide-c' }, { model: small, deployment_id: 'd-c' });
    await h.broker.waitForState('wide-c', (s) => serving(s, small));
  });
});
