import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RetainedIndex } from './retained-index.js';

/** MQTT 3.1.1 section 4.7, written the slow and obvious way: the reference for the index. */
function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

function index(topics: string[]): RetainedIndex<string> {
  const idx = new RetainedIndex<string>();
  for (const topic of topics) idx.set(topic, topic);
  return idx;
}

const TOPICS = [
  'sentinel/v1/devices/cam-1/state',
  'sentinel/v1/devices/cam-2/state',
  'sentinel/v1/devices/cam-1/desired',
  'sentinel/v1/groups/lobby/desired',
  'sentinel',
  'sentinel/v1',
  '/leading/empty',
  '$SYS/broker/uptime',
];

describe('RetainedIndex', () => {
  it('finds a topic without wildcards by itself only', () => {
    const idx = index(TOPICS);
    assert.deepEqual(idx.match(['sentinel/v1/devices/cam-1/state']), [
      'sentinel/v1/devices/cam-1/state',
    ]);
    assert.deepEqual(idx.match(['sentinel/v1/devices/cam-9/state']), []);
    assert.deepEqual(idx.match(['sentinel/v1/devices']), []);
  });

  it('matches + as exactly one level and # as the parent and everything below', () => {
    const idx = index(TOPICS);
    assert.deepEqual(idx.match(['sentinel/v1/devices/+/state']), [
      'sentinel/v1/devices/cam-1/state',
      'sentinel/v1/devices/cam-2/state',
    ]);
    assert.deepEqual(
      idx.match(['sentinel/v1/#']).sort(),
      TOPICS.slice(0, 4).concat('sentinel/v1').sort(),
    );
    assert.deepEqual(idx.match(['sentinel/+']), ['sentinel/v1']);
    assert.deepEqual(idx.match(['+/leading/+']), ['/leading/empty']);
  });

  it('keeps $ topics away from filters that start with a wildcard [MQTT-4.7.2-1]', () => {
    const idx = index(TOPICS);
    assert.ok(!idx.match(['#']).includes('$SYS/broker/uptime'));
    assert.ok(!idx.match(['+/broker/+']).includes('$SYS/broker/uptime'));
    assert.deepEqual(idx.match(['$SYS/#']), ['$SYS/broker/uptime']);
    assert.equal(idx.match(['#']).length, TOPICS.length - 1);
  });

  it('returns each value once when several filters match it', () => {
    const idx = index(TOPICS);
    assert.deepEqual(
      idx.match([
        'sentinel/v1/devices/cam-1/state',
        'sentinel/v1/devices/+/state',
        'sentinel/v1/devices/cam-1/#',
      ]),
      [
        'sentinel/v1/devices/cam-1/state',
        'sentinel/v1/devices/cam-2/state',
        'sentinel/v1/devices/cam-1/desired',
      ],
    );
  });

  it('replaces a value, deletes it, and prunes what a delete leaves empty', () => {
    const idx = new RetainedIndex<number>();
    idx.set('a/b/c', 1);
    idx.set('a/b/c', 2);
    idx.set('a/b', 3);
    assert.equal(idx.size, 2);
    assert.deepEqual(idx.match(['a/#']), [3, 2]);
    assert.equal(idx.delete('a/b/c'), true);
    assert.equal(idx.delete('a/b/c'), false);
    assert.deepEqual(idx.match(['a/#']), [3]);
    assert.equal(idx.delete('a/b'), true);
    assert.equal(idx.size, 0);
    assert.deepEqual(idx.match(['#', '+/+/+']), []);
    // Nothing is left of the branch: the root has no children again.
    assert.equal((idx as unknown as { root: { children: unknown } }).root.children, null);
  });

  it('agrees with the reference matcher after any sequence of stores and deletes', () => {
    const level = fc.constantFrom('a', 'b', '', '$x', 'c');
    const topic = fc.array(level, { minLength: 1, maxLength: 4 }).map((l) => l.join('/'));
    const filter = fc
      .tuple(
        fc.array(fc.oneof(level, fc.constant('+')), { minLength: 0, maxLength: 4 }),
        fc.boolean(),
      )
      .filter(([levels, hash]) => levels.length > 0 || hash)
      .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'));
    const op = fc.oneof(
      topic.map((t) => ({ set: t })),
      topic.map((t) => ({ del: t })),
    );
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 40 }),
        fc.array(filter, { minLength: 1, maxLength: 3 }),
        (ops, filters) => {
          const idx = new RetainedIndex<string>();
          const stored = new Set<string>();
          for (const o of ops) {
            if ('set' in o) {
              idx.set(o.set, o.set);
              stored.add(o.set);
            } else {
              assert.equal(idx.delete(o.del), stored.delete(o.del));
            }
          }
          assert.equal(idx.size, stored.size);
          const expected = [...stored].filter((t) => filters.some((f) => matches(f, t))).sort();
          const found = idx.match(filters);
          assert.equal(new Set(found).size, found.length, 'no duplicates');
          assert.deepEqual([...found].sort(), expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
