import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetEvents } from './fleet-events.js';

describe('FleetEvents', () => {
  it('delivers a payload to the listeners of its event only', () => {
    const events = new FleetEvents();
    const moved: unknown[] = [];
    const deleted: unknown[] = [];
    events.on('device.moved', (payload) => moved.push(payload));
    events.on('device.deleted', (payload) => deleted.push(payload));
    events.emit('device.moved', { deviceId: 'cam-1', from: 'a', to: 'b' });
    assert.deepEqual(moved, [{ deviceId: 'cam-1', from: 'a', to: 'b' }]);
    assert.deepEqual(deleted, []);
  });

  it('stops delivering once unsubscribed', () => {
    const events = new FleetEvents();
    let count = 0;
    const off = events.on('device.deleted', () => (count += 1));
    events.emit('device.deleted', { deviceId: 'cam-1' });
    off();
    events.emit('device.deleted', { deviceId: 'cam-1' });
    assert.equal(count, 1);
  });

  it('keeps going when a listener throws', () => {
    const events = new FleetEvents();
    const seen: string[] = [];
    events.on('group.deleted', () => {
      throw new Error('boom');
    });
    events.on('group.deleted', ({ group }) => seen.push(group));
    assert.doesNotThrow(() => events.emit('group.deleted', { group: 'yard', deviceIds: [] }));
    assert.deepEqual(seen, ['yard']);
  });
});
