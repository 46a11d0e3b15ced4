import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SessionTable } from './session-table.js';

interface FakeClient {
  id: string;
  closed: boolean;
}

function table() {
  let gauge = 0;
  let lowest = 0;
  const t = new SessionTable<FakeClient>({
    connected: () => (gauge += 1),
    disconnected: () => {
      gauge -= 1;
      lowest = Math.min(lowest, gauge);
    },
  });
  return { t, gauge: () => gauge, lowest: () => lowest };
}

describe('SessionTable', () => {
  it('announces a disconnect only for a client that was announced as connected', () => {
    const h = table();
    const early: FakeClient = { id: 'cam-1', closed: false };
    const late: FakeClient = { id: 'cam-1', closed: false };
    h.t.registered(late);
    h.t.ready(late);
    // Aedes unregisters a client that died mid-CONNECT, with the same id as a live one.
    h.t.gone(early);
    assert.equal(h.gauge(), 1);
    assert.equal(h.t.get('cam-1'), late, 'the live client keeps its entry');
    h.t.gone(late);
    h.t.gone(late);
    assert.equal(h.gauge(), 0);
    assert.equal(h.t.get('cam-1'), undefined);
  });

  it('ignores ready for a client already closed', () => {
    const h = table();
    const c: FakeClient = { id: 'cam-1', closed: true };
    h.t.registered(c);
    h.t.ready(c);
    assert.equal(h.gauge(), 0);
    assert.deepEqual(h.t.liveClients(), []);
  });

  it('keeps the count equal to the live clients and never below zero (property)', () => {
    const event = fc.record({
      kind: fc.constantFrom('registered', 'ready', 'gone', 'close'),
      client: fc.integer({ min: 0, max: 11 }),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 200 }), (events) => {
        const h = table();
        // 12 clients over 3 client ids: reconnects with the same id, in any order.
        const clients: FakeClient[] = Array.from({ length: 12 }, (_, i) => ({
          id: `cam-${i % 3}`,
          closed: false,
        }));
        for (const { kind, client } of events) {
          const c = clients[client]!;
          if (kind === 'close') c.closed = true;
          else h.t[kind](c);
        }
        return h.lowest() >= 0 && h.gauge() === h.t.liveClients().length;
      }),
      { seed: 11 },
    );
  });
});
