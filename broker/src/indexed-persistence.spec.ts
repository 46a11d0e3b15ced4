import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import abstractPersistence from 'aedes-persistence/abstract.js';
import { createIndexedPersistence, IndexedRetainedPersistence } from './indexed-persistence.js';

// aedes-persistence's own abstract suite (retained messages, subscriptions, queues, wills), as
// upstream runs it on its in-memory persistence: the promise interface directly, then the
// callback wrapper aedes uses, without and with waiting for 'ready'.
describe('IndexedRetainedPersistence: aedes-persistence abstract suite (promises)', () => {
  abstractPersistence({
    test: it,
    persistence: () => new IndexedRetainedPersistence(),
    testAsync: true,
  });
});

describe('createIndexedPersistence: aedes-persistence abstract suite (callbacks)', () => {
  abstractPersistence({ test: it, persistence: () => createIndexedPersistence() });
});

describe('createIndexedPersistence: aedes-persistence abstract suite (waiting for ready)', () => {
  abstractPersistence({
    test: it,
    persistence: () => createIndexedPersistence(),
    waitForReady: true,
  });
});

async function collect(stream: NodeJS.ReadableStream): Promise<unknown[]> {
  const list: unknown[] = [];
  for await (const item of stream) list.push(item);
  return list;
}

describe('IndexedRetainedPersistence', () => {
  it('answers a device subscription with its own retained message among many', async () => {
    const p = new IndexedRetainedPersistence();
    await p.setup({ id: 'broker-1' });
    for (let i = 0; i < 1000; i++) {
      const topic = `sentinel/v1/devices/cam-${i}/state`;
      await p.storeRetained({ topic, payload: Buffer.from(`s${i}`) });
    }
    const own = (await collect(
      p.createRetainedStreamCombi([
        'sentinel/v1/devices/cam-7/state',
        'sentinel/v1/devices/cam-7/desired',
      ]),
    )) as { topic: string; payload: Buffer }[];
    assert.deepEqual(
      own.map((m) => [m.topic, m.payload.toString()]),
      [['sentinel/v1/devices/cam-7/state', 's7']],
    );
    const all = await collect(p.createRetainedStream('sentinel/v1/devices/+/state'));
    assert.equal(all.length, 1000);
    await p.storeRetained({ topic: 'sentinel/v1/devices/cam-7/state', payload: Buffer.alloc(0) });
    assert.equal(
      (await collect(p.createRetainedStream('sentinel/v1/devices/+/state'))).length,
      999,
    );
    await p.destroy();
  });

  it('is what aedes gets: setup() is async and the wrapper becomes ready', async () => {
    const p = createIndexedPersistence() as unknown as NodeJS.EventEmitter & {
      setup: () => Promise<void>;
      broker: unknown;
      ready: boolean;
    };
    assert.equal(p.setup.constructor.name, 'AsyncFunction');
    const ready = once(p, 'ready');
    p.broker = { id: 'broker-1' };
    await ready;
    assert.equal(p.ready, true);
  });
});
