import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { namedSlotModels, scopeProblem, slotModels, type ScopedWindow } from './telemetry-scope.js';

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

  it("checks a named model's window against that model's slots, not the top level's", () => {
    const named = {
      ...device,
      models: { classifier: { blue: 'c-old', green: 'c-new' } },
    };
    const cls = window({ serveAs: 'classifier', modelId: 'c-new', slot: 'green' });
    assert.equal(scopeProblem(cls, named, targets), null);
    // The default model's id in that slot is not the classifier's.
    assert.equal(scopeProblem({ ...cls, modelId: 'm-new' }, named, targets), 'not_serving');
    assert.equal(scopeProblem({ ...cls, modelId: 'c-old' }, named, targets), 'not_serving');
    // A name the device reported it does not serve.
    assert.equal(scopeProblem({ ...cls, serveAs: 'tracker' }, named, targets), 'not_serving');
    // `default` is the top level, as without serve_as.
    assert.equal(scopeProblem(window({ serveAs: 'default' }), named, targets), null);
    // Not reported yet: trusted, as for the top level.
    assert.equal(scopeProblem(cls, { group: 'line-a' }, targets), null);
    // The shadow block against the named model's standby slot.
    const shadowed = { ...cls, slot: 'blue' as const, modelId: 'c-old' };
    assert.equal(
      scopeProblem(
        { ...shadowed, shadow: { deployment: 'dep-1', modelId: 'c-new' } },
        named,
        targets,
      ),
      null,
    );
    assert.equal(
      scopeProblem(
        { ...shadowed, shadow: { deployment: 'dep-1', modelId: 'm-new' } },
        named,
        targets,
      ),
      'not_serving',
    );
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

describe('namedSlotModels', () => {
  it("reads each named model's slots", () => {
    assert.deepEqual(
      namedSlotModels({
        classifier: { active_slot: 'blue', slots: { blue: { model_id: 'c1' }, green: null } },
        tracker: { active_slot: null, slots: null },
      }),
      { classifier: { blue: 'c1', green: null }, tracker: { blue: null, green: null } },
    );
    assert.deepEqual(namedSlotModels({}), {});
    assert.equal(namedSlotModels(undefined), undefined);
  });
});
