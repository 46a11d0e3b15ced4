import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventCoalescer, type LiveEvent } from './event-coalescer.js';

const types = (events: LiveEvent[]) => events.map((e) => `${e.type}:${JSON.stringify(e.data)}`);

describe('EventCoalescer', () => {
  it('sends a first change at once, and nothing when nothing changed', () => {
    const c = new EventCoalescer({ intervalMs: 500, maxIds: 500 });
    assert.deepEqual(c.take(0), { events: [], nextAt: null });
    c.deployment('d1', 'staging');
    c.model('m1');
    c.devicesChanged(['cam-1']);
    const { events, nextAt } = c.take(1000);
    assert.deepEqual(types(events), [
      'deployment:{"id":"d1","status":"staging"}',
      'model:{"id":"m1"}',
      'devices:{"ids":["cam-1"],"more":false}',
    ]);
    assert.equal(nextAt, null);
    assert.equal(c.pending, false);
  });

  it('sends at most one event per deployment per interval, with its latest status', () => {
    const c = new EventCoalescer({ intervalMs: 500, maxIds: 500 });
    c.deployment('d1', 'staging');
    assert.equal(c.take(0).events.length, 1);
    c.deployment('d1', 'staging');
    c.deployment('d1', 'in_progress');
    c.deployment('d2', 'in_progress'); // another deployment is not held back by d1
    const held = c.take(100);
    assert.deepEqual(types(held.events), ['deployment:{"id":"d2","status":"in_progress"}']);
    assert.equal(held.nextAt, 500);
    assert.deepEqual(c.take(499).events, []);
    assert.deepEqual(types(c.take(500).events), ['deployment:{"id":"d1","status":"in_progress"}']);
  });

  it('sends one devices event per interval, whatever the number of reports', () => {
    const c = new EventCoalescer({ intervalMs: 500, maxIds: 500 });
    let sent = 0;
    let now = 0;
    // 1,000 reports of 100 devices, one every millisecond: a second of reports.
    for (let i = 0; i < 1000; i++, now++) {
      c.devicesChanged([`cam-${i % 100}`]);
      const { events } = c.take(now);
      sent += events.length;
      for (const e of events) assert.equal(e.type, 'devices');
    }
    sent += c.take(now + 500).events.length;
    // At 0, 500 and 1000 ms, and the rest after the last one: 3.
    assert.equal(sent, 3);
  });

  it('names a device once per event, and at most maxIds of them, then "more"', () => {
    const c = new EventCoalescer({ intervalMs: 500, maxIds: 3 });
    c.devicesChanged(['a', 'b', 'a']);
    c.devicesChanged(['b', 'c', 'd', 'e']);
    assert.deepEqual(types(c.take(0).events), ['devices:{"ids":["a","b","c"],"more":true}']);
    c.devicesChanged(['f']);
    assert.deepEqual(types(c.take(500).events), ['devices:{"ids":["f"],"more":false}']);
  });

  it('holds a model version changed again within the interval', () => {
    const c = new EventCoalescer({ intervalMs: 500, maxIds: 500 });
    c.model('m1');
    c.take(0);
    c.model('m1');
    const held = c.take(10);
    assert.deepEqual(held, { events: [], nextAt: 500 });
    assert.ok(c.pending);
    assert.deepEqual(types(c.take(500).events), ['model:{"id":"m1"}']);
  });
});
