import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { namedModelsOf } from './named-models.js';

const slot = (model_id: string, version: string) => ({
  model_id,
  version,
  sha256: 'a'.repeat(64),
  loaded: true,
});

describe('namedModelsOf: the named models of a device state report', () => {
  it('lists each named model in name order with its slots and deployment progress', () => {
    const reported = {
      active_slot: 'blue',
      slots: { blue: slot('d1', '1.0.0'), green: null },
      models: {
        tracker: { active_slot: null, slots: { blue: null, green: null }, deployment: null },
        classifier: {
          active_slot: 'green',
          slots: { blue: slot('c1', '1.0.0'), green: slot('c2', '2.0.0') },
          deployment: { deployment_id: 'dep-1', seq: 3, phase: 'active' },
        },
      },
    };
    assert.deepEqual(namedModelsOf(reported), [
      {
        name: 'classifier',
        active_slot: 'green',
        slots: {
          blue: { model_id: 'c1', version: '1.0.0', loaded: true },
          green: { model_id: 'c2', version: '2.0.0', loaded: true },
        },
        deployment: { deployment_id: 'dep-1', phase: 'active', reason: null },
      },
      {
        name: 'tracker',
        active_slot: null,
        slots: { blue: null, green: null },
        deployment: null,
      },
    ]);
  });

  it('a one-model agent (no models) and no report at all give none', () => {
    assert.deepEqual(namedModelsOf({ active_slot: 'blue', slots: {} }), []);
    assert.deepEqual(namedModelsOf(null), []);
  });

  it('a partial report keeps what it can read', () => {
    assert.deepEqual(namedModelsOf({ models: { cls: { active_slot: 'purple', slots: null } } }), [
      { name: 'cls', active_slot: null, slots: { blue: null, green: null }, deployment: null },
    ]);
  });
});
