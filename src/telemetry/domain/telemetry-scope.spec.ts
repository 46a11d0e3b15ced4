import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scopeProblem, slotModels, type ScopedWindow } from './telemetry-scope.js';

const window = (over: Partial<ScopedWindow> = {}): ScopedWindow => ({
  device: 'cam-1',
  deployment: 'dep-1',
  modelId: 'm-new',
  slot: 'green',
  ...over,
});
const targets = new Set(['line-a']);
const device = { group: 'line-a', slots: { blue: 'm-old', green: 'm-new' } };

describe('scopeProblem', () => {
  it('accepts a window of a target device on the model it reported in that slot', () => {
    assert.equal(scopeProblem(window(), device, targets), null);
    assert.equal(scopeProblem(window({ slot: 'blue', modelId: 'm-old' }), device, targets), null);
  });

  it('refuses a window naming a deployment that does not target the device’s group', () => {
    assert.equal(
      scopeProblem(window(), { ...device, group: 'line-b' }, targets),
      'foreign_deployment',
    );
    assert.equal(scopeProblem(window(), { ...device, group: null }, targets), 'foreign_deployment');
    assert.equal(scopeProblem(window(), device, new Set()), 'foreign_deployment');
    assert.equal(scopeProblem(window(), device, undefined), 'foreign_deployment');
  });

  it('refuses a window for a model the device does not hold in that slot', () => {
    assert.equal(scopeProblem(window({ modelId: 'm-old' }), device, targets), 'not_serving');
    assert.equal(scopeProblem(window({ modelId: 'm-other' }), device, targets), 'not_serving');
  });

  it('trusts the model until the device has reported its slots, and windows without a deployment', () => {
    assert.equal(scopeProblem(window(), { group: 'line-a' }, targets), null);
    assert.equal(scopeProblem(window({ deployment: null }), { group: 'line-z' }, undefined), null);
  });

  it('refuses a device the hub does not know', () => {
    assert.equal(scopeProblem(window(), undefined, targets), 'unknown_device');
  });
});

describe('slotModels', () => {
  it('reads model ids per slot and tolerates empty or odd shapes', () => {
    assert.deepEqual(slotModels({ blue: { model_id: 'a', version: '1' }, green: null }), {
      blue: 'a',
      green: null,
    });
    assert.equal(slotModels(null), undefined);
    assert.deepEqual(slotModels({ blue: 3 }), { blue: null, green: null });
  });
});
