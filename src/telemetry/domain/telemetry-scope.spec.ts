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

  it('accepts a shadow block of the same deployment for the model in the standby slot', () => {
    // Shadow phase: the old model serves (blue), the candidate waits in green.
    const serving = window({ slot: 'blue', modelId: 'm-old' });
    const shadow = { deployment: 'dep-1', modelId: 'm-new' };
    assert.equal(scopeProblem({ ...serving, shadow }, device, targets), null);
    // A window naming no slot: the candidate may be in either.
    assert.equal(scopeProblem({ ...serving, slot: null, shadow }, device, targets), null);
    // Slots not reported yet: trusted, as the window's model is.
    assert.equal(scopeProblem({ ...serving, shadow }, { group: 'line-a' }, targets), null);
  });

  it('refuses a window whose shadow block names another deployment or a model not on standby', () => {
    const serving = window({ slot: 'blue', modelId: 'm-old' });
    const refused = (shadow: ScopedWindow['shadow'], slot: ScopedWindow['slot'] = 'blue') =>
      scopeProblem({ ...serving, slot, shadow }, device, targets);
    assert.equal(refused({ deployment: 'dep-2', modelId: 'm-new' }), 'foreign_deployment');
    assert.equal(refused({ deployment: null, modelId: 'm-new' }), 'foreign_deployment');
    // The serving model itself, or a model the device does not hold, is no candidate.
    assert.equal(refused({ deployment: 'dep-1', modelId: 'm-old' }), 'not_serving');
    assert.equal(refused({ deployment: 'dep-1', modelId: 'm-other' }), 'not_serving');
    assert.equal(refused({ deployment: 'dep-1', modelId: 'm-other' }, null), 'not_serving');
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
