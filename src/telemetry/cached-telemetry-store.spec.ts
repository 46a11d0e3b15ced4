import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CachedTelemetryStore } from './cached-telemetry-store.js';
import { T0, telemetryPoint } from '../../test/support/telemetry-points.js';
import type { AggregateQuery, ShadowQuery, TelemetryStore } from './telemetry-store.js';

const point = (seconds: number) => telemetryPoint('cam-a', '1.0.0', seconds);

/** A store that records what reaches it (a pure unit test: no engine behind it). */
function recordingStore(fail = false) {
  const queries: AggregateQuery[] = [];
  const shadowQueries: ShadowQuery[] = [];
  const store: TelemetryStore = {
    kind: 'embedded',
    init: async () => undefined,
    write: async () => {
      if (fail) throw new Error('store down');
    },
    writeEvents: async () => undefined,
    aggregateByDevice: async (query) => {
      queries.push(query);
      return [];
    },
    aggregateShadow: async (query) => {
      shadowQueries.push(query);
      return [];
    },
    querySeries: async () => [],
    close: async () => undefined,
  };
  return { store, queries, shadowQueries };
}

const window = (from: number, to: number) => ({
  deployment: 'dep-1',
  from: new Date(T0 + from * 1000),
  to: new Date(T0 + to * 1000),
});

describe('CachedTelemetryStore', () => {
  it('answers a window it covers from memory, and asks the store for one it does not', async () => {
    const { store, queries } = recordingStore();
    let now = T0 + 30_000;
    const cached = new CachedTelemetryStore(store, { spanMs: 60_000, since: T0 }, () => now);
    await cached.write([point(10), point(20)]);
    const [v1] = await cached.aggregateByDevice(window(0, 30));
    assert.equal(v1!.samples, 2);
    assert.equal(queries.length, 0);
    // Before the cache began (a restarted hub): the store.
    await cached.aggregateByDevice(window(-60, 30));
    assert.equal(queries.length, 1);
    // Older than the span: the store.
    now = T0 + 200_000;
    await cached.aggregateByDevice(window(30, 200));
    assert.equal(queries.length, 2);
  });

  it('keeps only what the store accepted', async () => {
    const { store, queries } = recordingStore(true);
    const cached = new CachedTelemetryStore(
      store,
      { spanMs: 60_000, since: T0 },
      () => T0 + 30_000,
    );
    await assert.rejects(cached.write([point(10)]), /store down/);
    assert.deepEqual(await cached.aggregateByDevice(window(0, 30)), []);
    assert.equal(queries.length, 0);
    assert.equal(cached.recent.size, 0);
  });

  it('asks the store for shadow figures, even for a window the cache covers', async () => {
    const { store, shadowQueries } = recordingStore();
    const cached = new CachedTelemetryStore(
      store,
      { spanMs: 60_000, since: T0 },
      () => T0 + 30_000,
    );
    await cached.write([point(10)]);
    assert.deepEqual(await cached.aggregateShadow(window(0, 30)), []);
    assert.deepEqual(shadowQueries, [window(0, 30)]);
  });
});
