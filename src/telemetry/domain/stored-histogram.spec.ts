import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LatencyHistogram } from '@sentinel/broker';
import {
  addHistogram,
  decodeHistogram,
  encodeHistogram,
  mergeStoredHistograms,
  packHistogram,
} from './stored-histogram.js';

const hist: LatencyHistogram = [
  [52, 3],
  [53, 41],
  [54, 7],
];

describe('stored latency histograms', () => {
  it('encodes a histogram as compact JSON and reads it back', () => {
    assert.equal(encodeHistogram(hist), '[[52,3],[53,41],[54,7]]');
    assert.equal(encodeHistogram([]), '[]');
    assert.deepEqual(decodeHistogram(encodeHistogram(hist)), hist);
  });

  it('takes a value already decoded (jsonb) as it is', () => {
    assert.deepEqual(decodeHistogram(hist), hist);
    assert.deepEqual(decodeHistogram([]), []);
  });

  it('refuses what is not a histogram the schema accepts', () => {
    for (const value of [
      null,
      undefined,
      42,
      'not json',
      '{"52":3}',
      '[[149,1]]', // no bucket 149
      '[[1,-1]]',
      '[[1,1.5]]',
      [[1, 2, 3]],
      [['1', 2]],
    ]) {
      assert.equal(decodeHistogram(value), null, JSON.stringify(value));
    }
  });

  it('merges the valid histograms of a device, leaving out invalid ones; null when none is valid', () => {
    assert.deepEqual(
      mergeStoredHistograms([
        '[[53,1],[52,2]]',
        null,
        'garbage',
        [
          [52, 1],
          [60, 4],
          [52, 1],
        ],
      ]),
      [
        [52, 4],
        [53, 1],
        [60, 4],
      ],
    );
    assert.equal(mergeStoredHistograms([]), null);
    assert.equal(mergeStoredHistograms([null, 'x']), null);
    assert.deepEqual(mergeStoredHistograms(['[]']), []);
  });

  it('packs the pairs flat for the cache, and adds either form into dense counts', () => {
    const unsorted: LatencyHistogram = [
      [60, 2],
      [50, 1],
      [60, 1_000_000_000],
    ];
    assert.deepEqual([...packHistogram(unsorted)], [60, 2, 50, 1, 60, 1_000_000_000]);
    assert.equal(packHistogram([]).length, 0);
    const counts = new Array<number>(149).fill(0);
    addHistogram(counts, packHistogram(unsorted));
    addHistogram(counts, hist);
    assert.equal(counts[60], 1_000_000_002);
    assert.equal(counts[50], 1);
    assert.equal(counts[53], 41);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      1_000_000_003 + 51,
    );
    assert.throws(() => addHistogram(counts, [[149, 1]]), RangeError);
    assert.throws(() => addHistogram(counts, packHistogram([[1, -1]])), RangeError);
  });
});
