// Issue 15 item 8: the agent sends its device secret (HTTP Basic on artifact downloads) only to
// the hub it was configured with. A desired state names the artifact URL; one that names another
// server (here a real HTTP server on another port that records the headers it gets) must not
// collect the secret.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fastModel, goldenMismatchModel } from './support/onnx-models.js';
import { serving } from './support/agent-fixture.js';
import { AgentHarness, failedWith } from './support/agent-harness.js';

describe('edge agent: where the device secret goes', () => {
  let h: AgentHarness;
  before(async () => {
    h = await new AgentHarness().start();
  });
  after(() => h.stop());

  it('sends it to the configured hub only, never to a URL a desired state names', async () => {
    const { broker, hub, rogue } = h;
    const fromRogue = rogue.add('det', '1.0.1', fastModel());
    const fromHub = hub.add('det', '1.0.0', goldenMismatchModel());
    await h.startAgent('cred-a', 'cred-a');
    await broker.publishDesired({ group: 'cred-a' }, { model: fromRogue, deployment_id: 'd-1' });
    // Served elsewhere without credentials (as a presigned S3 URL is): the download still works.
    await broker.waitForState('cred-a', (s) => serving(s, fromRogue));
    assert.ok(rogue.downloadsOf(fromRogue) >= 1);
    for (const r of rogue.requests) assert.equal(r.authorization, undefined, 'secret leaked');

    // The configured hub still gets it: its artifact route needs it.
    await broker.publishDesired({ group: 'cred-a' }, { model: fromHub, deployment_id: 'd-2' });
    await broker.waitForState('cred-a', (s) => serving(s, fromHub));
    assert.ok(hub.requests.some((r) => r.authorization?.startsWith('Basic ')));
  });

  it('a foreign server that asks for credentials fails the download with a reason naming the rule', async () => {
    const { broker, rogue } = h;
    const model = rogue.add('det', '1.1.0', Buffer.from('never served'));
    rogue.failWith = 401;
    try {
      await h.startAgent('cred-b', 'cred-b');
      await broker.publishDesired({ group: 'cred-b' }, { model, deployment_id: 'd-401' });
      const state = await broker.waitForState('cred-b', failedWith('download_failed'));
      assert.match(state.deployment?.detail ?? '', /only to the hub it was configured with/);
      assert.match(state.deployment?.detail ?? '', /SENTINEL_HUB_URL/);
    } finally {
      rogue.failWith = null;
    }
    assert.ok(rogue.requests.length > 0);
    assert.ok(rogue.requests.every((r) => r.authorization === undefined));
  });
});
