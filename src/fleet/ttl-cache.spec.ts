import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TtlCache } from './ttl-cache.js';

function clock(start = 0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('TtlCache', () => {
  it('returns an entry until its time is up', () => {
    const time = clock();
    const cache = new TtlCache<string, number>(30_000, 10, time.now);
    cache.set('a', 1);
    time.advance(29_999);
    assert.equal(cache.get('a'), 1);
    time.advance(1); // set at 0 + 30 000 ms ttl -> gone at 30 000
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.size, 0);
  });

  it('forgets a deleted entry at once', () => {
    const cache = new TtlCache<string, number>(30_000, 10);
    cache.set('a', 1);
    cache.delete('a');
    assert.equal(cache.get('a'), undefined);
  });

  it('stays within maxEntries, dropping expired entries first and then the oldest', () => {
    const time = clock();
    const cache = new TtlCache<string, number>(1_000, 3, time.now);
    cache.set('old', 0);
    time.advance(1_000); // 'old' has expired
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    assert.equal(cache.size, 3);
    assert.equal(cache.get('old'), undefined);
    cache.set('d', 4); // nothing expired: the oldest ('a') goes
    assert.equal(cache.get('a'), undefined);
    assert.deepEqual(
      ['b', 'c', 'd'].map((k) => cache.get(k)),
      [2, 3, 4],
    );
  });

  it('caches nothing with a ttl of 0', () => {
    const cache = new TtlCache<string, number>(0, 10);
    cache.set('a', 1);
    assert.equal(cache.get('a'), undefined);
  });
});
