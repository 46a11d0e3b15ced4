import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MODEL_NAMES, type Command } from '@sentinel/broker/protocol';
import {
  admitName,
  isNamedModel,
  routeCommand,
  telemetryPerSecond,
  DEFAULT_TELEMETRY_RATE_PER_S,
} from './model-routing.js';

function command(fields: Partial<Command> & Pick<Command, 'command'>): Command {
  return { id: 'c-1', issued_at: '2026-12-07T00:00:00Z', ...fields };
}

describe('named model routing', () => {
  it('admits default always, a known name always, a new one while there is room', () => {
    const full = new Set(Array.from({ length: MAX_MODEL_NAMES }, (_, i) => `m${i}`));
    assert.equal(MAX_MODEL_NAMES, 8);
    assert.equal(admitName(new Set(), 'default'), 'known');
    assert.equal(admitName(full, 'default'), 'known');
    assert.equal(admitName(new Set(['classifier']), 'classifier'), 'known');
    assert.equal(admitName(new Set(['classifier']), 'detector'), 'new');
    assert.equal(admitName(full, 'm3'), 'known');
    assert.equal(admitName(full, 'm8'), 'over_limit');
    const seven = new Set([...full].slice(0, 7));
    assert.equal(admitName(seven, 'm7'), 'new');
  });

  it('a rollback goes to its serve_as model, default without one, nowhere for an unknown name', () => {
    const serves = (name: string) => name === 'default' || name === 'classifier';
    assert.deepEqual(routeCommand(command({ command: 'rollback' }), serves), {
      kind: 'rollback',
      name: 'default',
    });
    assert.deepEqual(
      routeCommand(command({ command: 'rollback', serve_as: 'classifier' }), serves),
      {
        kind: 'rollback',
        name: 'classifier',
      },
    );
    assert.deepEqual(routeCommand(command({ command: 'rollback', serve_as: 'detector' }), serves), {
      kind: 'unknown_model',
      name: 'detector',
    });
  });

  it('reload and ping are about the whole device, serve_as or not', () => {
    const serves = () => false;
    assert.deepEqual(routeCommand(command({ command: 'reload', serve_as: 'x' }), serves), {
      kind: 'reload',
    });
    assert.deepEqual(routeCommand(command({ command: 'ping' }), serves), { kind: 'ping' });
  });

  it('names a named model: id pattern, not default', () => {
    assert.equal(isNamedModel('classifier'), true);
    assert.equal(isNamedModel('default'), false);
    assert.equal(isNamedModel('Bad Name'), false);
    assert.equal(isNamedModel('..'), false);
    assert.equal(isNamedModel(''), false);
  });

  it('the default telemetry interval keeps 8 + 1 windows far below the broker limit', () => {
    // docs/protocol.md section 8: a burst of 50, refilled at 5 per second.
    assert.equal(telemetryPerSecond(MAX_MODEL_NAMES + 1, 10), 0.9);
    assert.ok(telemetryPerSecond(MAX_MODEL_NAMES + 1, 10) < DEFAULT_TELEMETRY_RATE_PER_S);
    // Below 1.8 s per window, nine models outrun the sustained rate.
    assert.ok(telemetryPerSecond(MAX_MODEL_NAMES + 1, 1.8) <= DEFAULT_TELEMETRY_RATE_PER_S);
    assert.ok(telemetryPerSecond(MAX_MODEL_NAMES + 1, 1.7) > DEFAULT_TELEMETRY_RATE_PER_S);
  });
});
