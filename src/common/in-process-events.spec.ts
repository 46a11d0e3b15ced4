import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Logger } from '@nestjs/common';
import { InProcessEvents } from './in-process-events.js';

interface Events {
  'a.changed': { id: string };
  'b.changed': { n: number };
}

const quiet = new Logger('test');
quiet.error = () => undefined;

describe('InProcessEvents', () => {
  it('delivers a payload to the listeners of its event only, until they unsubscribe', () => {
    const events = new InProcessEvents<Events>(quiet);
    const a: string[] = [];
    const b: number[] = [];
    const off = events.on('a.changed', ({ id }) => a.push(id));
    events.on('b.changed', ({ n }) => b.push(n));
    events.emit('a.changed', { id: 'x' });
    off();
    events.emit('a.changed', { id: 'y' });
    assert.deepEqual(a, ['x']);
    assert.deepEqual(b, []);
  });

  it('keeps going when a listener throws', () => {
    const events = new InProcessEvents<Events>(quiet);
    const seen: number[] = [];
    events.on('b.changed', () => {
      throw new Error('boom');
    });
    events.on('b.changed', ({ n }) => seen.push(n));
    assert.doesNotThrow(() => events.emit('b.changed', { n: 1 }));
    assert.deepEqual(seen, [1]);
  });
});
