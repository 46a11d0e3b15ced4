import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Principal } from './acl.js';
import {
  observerClientId,
  OBSERVER_CLIENT_ID_PREFIX,
  protocolRefusal,
  samePrincipal,
  sessionRefusal,
} from './connect-policy.js';
import { isValidId } from './topics.js';

const cam1: Principal = { kind: 'device', deviceId: 'cam-1', group: 'lobby' };
const cam2: Principal = { kind: 'device', deviceId: 'cam-2', group: 'lobby' };
const grafana: Principal = { kind: 'observer', credentialId: 'token-a' };
const debug: Principal = { kind: 'observer', credentialId: 'token-b' };

describe('observerClientId', () => {
  it('puts any requested id under the observer prefix, keeps one already there', () => {
    assert.equal(observerClientId('cam-1'), 'observer:cam-1');
    assert.equal(observerClientId('observer:grafana'), 'observer:grafana');
    assert.equal(
      observerClientId('', () => 'r4nd0m'),
      'observer:r4nd0m',
    );
  });

  it('never yields a device id (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (requested) => {
        const id = observerClientId(requested);
        return id.startsWith(OBSERVER_CLIENT_ID_PREFIX) && !isValidId(id);
      }),
      { seed: 7 },
    );
  });
});

describe('protocolRefusal', () => {
  it('accepts MQTT 3.1.1 only, with CONNACK 1 for the others', () => {
    assert.equal(protocolRefusal(4), null);
    for (const level of [3, 5, 0, 255]) assert.equal(protocolRefusal(level)?.returnCode, 1);
  });
});

describe('sessionRefusal', () => {
  it('lets a device use its own id as client id, nothing else', () => {
    assert.equal(sessionRefusal(cam1, 'cam-1', null), null);
    assert.equal(sessionRefusal(cam1, 'cam-2', null)?.returnCode, 2);
    assert.equal(sessionRefusal(cam1, 'observer:cam-1', null)?.reason, 'client_id');
  });

  it('keeps observers in their namespace', () => {
    assert.equal(sessionRefusal(grafana, 'observer:grafana', null), null);
    assert.equal(sessionRefusal(grafana, 'cam-1', null)?.reason, 'client_id');
  });

  it('refuses taking over a session of another principal, allows taking over its own', () => {
    assert.equal(sessionRefusal(cam1, 'cam-1', cam1), null, 'a reconnecting device');
    assert.equal(sessionRefusal(cam1, 'cam-1', cam2)?.reason, 'client_id_in_use');
    assert.equal(sessionRefusal(grafana, 'observer:x', grafana), null);
    assert.equal(sessionRefusal(debug, 'observer:x', grafana)?.reason, 'client_id_in_use');
  });

  it('tells principals apart by device id and by observer credential', () => {
    assert.equal(samePrincipal(cam1, { ...cam1, group: 'other' }), true);
    assert.equal(samePrincipal(cam1, cam2), false);
    assert.equal(samePrincipal(grafana, debug), false);
    assert.equal(samePrincipal({ kind: 'hub' }, { kind: 'hub' }), true);
    assert.equal(samePrincipal(cam1, grafana), false);
  });
});
