import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  deviceDesiredTopic,
  groupDesiredTopic,
  type DesiredState,
  type ModelRef,
} from '@sentinel/broker/protocol';
import { DesiredSources } from './desired-sources.js';

const model: ModelRef = {
  id: '00000000-0000-4000-8000-000000000001',
  name: 'det',
  version: '1.0.0',
  sha256: 'a'.repeat(64),
  size: 10,
  url: 'http://hub/a',
  signature: null,
};

function desired(deployment: string, seq: number): DesiredState {
  return {
    deployment_id: deployment,
    seq,
    strategy: 'blue-green',
    model,
    previous: null,
    activate: 'new',
    cohort: null,
    issued_at: '2026-12-07T00:00:00Z',
  };
}

const G = 'g1';
const D = 'cam-1';

describe('desired states per named model', () => {
  it('keeps each name apart: a classifier message never changes the default model', () => {
    const sources = new DesiredSources();
    const a = sources.receive(groupDesiredTopic(G), 'group', 'default', desired('dep-a', 1));
    const b = sources.receive(
      groupDesiredTopic(G, 'classifier'),
      'group',
      'classifier',
      desired('dep-b', 1),
    );
    assert.equal(a?.name, 'default');
    assert.equal(a?.desired?.deployment_id, 'dep-a');
    assert.equal(b?.name, 'classifier');
    assert.equal(b?.desired?.deployment_id, 'dep-b');
    assert.equal(b?.received?.deployment_id, 'dep-b');
    assert.equal(sources.desiredOf('default')?.deployment_id, 'dep-a');
    assert.equal(sources.desiredOf('classifier')?.deployment_id, 'dep-b');
    assert.equal(sources.desiredOf('detector'), null);
  });

  it('the device override wins over the group, per name, and its removal falls back to the group', () => {
    const sources = new DesiredSources();
    const groupTopic = groupDesiredTopic(G, 'classifier');
    const deviceTopic = deviceDesiredTopic(D, 'classifier');
    sources.receive(groupTopic, 'group', 'classifier', desired('dep-group', 1));
    const pinned = sources.receive(deviceTopic, 'device', 'classifier', desired('dep-pin', 1));
    assert.equal(pinned?.desired?.deployment_id, 'dep-pin');
    // A newer group message does not beat the pin.
    const newer = sources.receive(groupTopic, 'group', 'classifier', desired('dep-group-2', 2));
    assert.equal(newer?.desired?.deployment_id, 'dep-pin');
    assert.equal(newer?.received?.deployment_id, 'dep-group-2');
    // The default model has no override: the classifier's pin is not its.
    sources.receive(groupDesiredTopic(G), 'group', 'default', desired('dep-default', 1));
    assert.equal(sources.desiredOf('default')?.deployment_id, 'dep-default');
    const cleared = sources.clear(deviceTopic, 'device', 'classifier');
    assert.deepEqual(
      { name: cleared.name, id: cleared.desired?.deployment_id, received: cleared.received },
      { name: 'classifier', id: 'dep-group-2', received: undefined },
    );
  });

  it('applies the seq rule per topic: a stale message on one topic, a fresh one on another', () => {
    const sources = new DesiredSources();
    const classifier = groupDesiredTopic(G, 'classifier');
    assert.ok(sources.receive(classifier, 'group', 'classifier', desired('dep-1', 5)));
    assert.equal(sources.receive(classifier, 'group', 'classifier', desired('dep-0', 5)), null);
    assert.equal(sources.receive(classifier, 'group', 'classifier', desired('dep-0', 4)), null);
    // Seq 1 is new on the detector's and the default model's topics.
    assert.ok(
      sources.receive(groupDesiredTopic(G, 'detector'), 'group', 'detector', desired('x', 1)),
    );
    assert.ok(sources.receive(groupDesiredTopic(G), 'group', 'default', desired('y', 1)));
    // A cleared topic starts over, and so does a new session (retained messages come again).
    sources.clear(classifier, 'group', 'classifier');
    assert.ok(sources.receive(classifier, 'group', 'classifier', desired('dep-1', 5)));
    sources.forgetSeqs();
    assert.ok(sources.receive(classifier, 'group', 'classifier', desired('dep-1', 5)));
    assert.equal(sources.desiredOf('classifier')?.deployment_id, 'dep-1');
  });

  it('an empty payload clears only its source: nothing applies once both are gone', () => {
    const sources = new DesiredSources();
    const topic = groupDesiredTopic(G, 'classifier');
    sources.receive(topic, 'group', 'classifier', desired('dep-1', 1));
    const cleared = sources.clear(topic, 'group', 'classifier');
    assert.equal(cleared.desired, null);
    assert.equal(sources.desiredOf('classifier'), null);
  });

  it('leaving the group drops every name group state; device overrides stay', () => {
    const sources = new DesiredSources();
    sources.receive(groupDesiredTopic(G), 'group', 'default', desired('d', 1));
    sources.receive(groupDesiredTopic(G, 'classifier'), 'group', 'classifier', desired('c', 1));
    sources.receive(groupDesiredTopic(G, 'detector'), 'group', 'detector', desired('t', 1));
    sources.receive(deviceDesiredTopic(D, 'detector'), 'device', 'detector', desired('pin', 1));
    sources.receive(deviceDesiredTopic(D, 'counter'), 'device', 'counter', desired('n', 1));
    const changes = sources.leaveGroup();
    assert.deepEqual(
      changes.map((c) => [c.name, c.desired?.deployment_id ?? null]),
      [
        ['default', null],
        ['classifier', null],
        ['detector', 'pin'],
      ],
    );
    // The counter had no group state: nothing changed for it.
    assert.equal(sources.desiredOf('counter')?.deployment_id, 'n');
  });

  it('leaving the group with nothing received still says the default model has nothing', () => {
    assert.deepEqual(new DesiredSources().leaveGroup(), [{ name: 'default', desired: null }]);
  });
});
