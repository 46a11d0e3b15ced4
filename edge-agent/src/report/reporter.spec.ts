import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessage, type ModelRef } from '@sentinel/broker/protocol';
import { silentLogger } from '../log.js';
import { ErrorLog } from './error-log.js';
import { modelState, Reporter, type ModelsReport } from './reporter.js';

const v1: ModelRef = {
  id: '00000000-0000-4000-8000-000000000001',
  name: 'det',
  version: '1.0.0',
  sha256: 'a'.repeat(64),
  size: 10,
  url: 'http://hub/a',
  signature: null,
};
const c1: ModelRef = { ...v1, id: '00000000-0000-4000-8000-000000000002', sha256: 'c'.repeat(64) };

function reporter(models: ModelsReport): Reporter {
  return new Reporter({
    deviceId: 'cam-1',
    errors: new ErrorLog(silentLogger),
    models: () => models,
  });
}

const progress = {
  deployment_id: 'dep-c',
  seq: 3,
  phase: 'active' as const,
  in_cohort: true,
};

describe('device state with named models', () => {
  it('a one-model device reports no models field: the same keys, in the same order, as before', () => {
    const payload = reporter({
      default: modelState({ active: 'blue', blue: v1, green: null }, null),
      named: {},
    }).statePayload(true);
    const state = JSON.parse(payload.toString()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(state), [
      'device_id',
      'online',
      'agent_version',
      'ts',
      'active_slot',
      'slots',
      'deployment',
      'errors',
    ]);
    assert.deepEqual(state.slots, {
      blue: { model_id: v1.id, version: '1.0.0', sha256: v1.sha256, loaded: true },
      green: null,
    });
  });

  it('the default model at the top level, every named one under models, all three fields each', () => {
    const payload = reporter({
      default: modelState({ active: 'blue', blue: v1, green: null }, null),
      named: {
        classifier: modelState({ active: 'green', blue: null, green: c1 }, progress),
        detector: modelState({ active: null, blue: null, green: null }, null),
      },
    }).statePayload(true);
    const parsed = parseMessage('device-state', payload);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    const state = parsed.value;
    assert.equal(state.active_slot, 'blue');
    assert.equal(state.slots?.blue?.sha256, v1.sha256);
    assert.deepEqual(state.models, {
      classifier: {
        active_slot: 'green',
        slots: {
          blue: null,
          green: { model_id: c1.id, version: '1.0.0', sha256: c1.sha256, loaded: true },
        },
        deployment: progress,
      },
      detector: { active_slot: null, slots: { blue: null, green: null }, deployment: null },
    });
  });

  it('offline: the Last Will says nothing of the models', () => {
    const payload = reporter({
      default: modelState({ active: null, blue: null, green: null }, null),
      named: { classifier: modelState({ active: null, blue: null, green: null }, null) },
    }).statePayload(false);
    assert.deepEqual(Object.keys(JSON.parse(payload.toString()) as object), [
      'device_id',
      'online',
      'ts',
    ]);
  });
});
