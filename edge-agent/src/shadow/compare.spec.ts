import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  agreement,
  boxAgreement,
  boxesOf,
  cosineAgreement,
  iou,
  shadowSettingsOf,
  top1Agreement,
} from './compare.js';

const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });

describe('shadow comparisons', () => {
  it('cosine: 1 for the same direction, 0 for orthogonal or opposite, scale-free', () => {
    assert.equal(cosineAgreement([1, 2, 3], [2, 4, 6]), 1);
    assert.equal(cosineAgreement([1, 0], [0, 1]), 0);
    assert.equal(cosineAgreement([1, 1], [-1, -1]), 0);
    assert.equal(cosineAgreement([0, 0], [0, 0]), 1);
    assert.equal(cosineAgreement([0, 0], [1, 0]), 0);
    assert.equal(cosineAgreement([1, 2], [1, 2, 3]), 0, 'other shapes never agree');
    assert.ok(Math.abs(cosineAgreement([1, 0], [1, 1]) - Math.SQRT1_2) < 1e-12);
  });

  it('top-1: the share of rows with the same best class', () => {
    const a = { dims: [3, 4], data: [0.1, 0.7, 0.1, 0.1, 0.9, 0, 0, 0.1, 0, 0, 0.2, 0.8] };
    const b = { dims: [3, 4], data: [0, 0.6, 0.4, 0, 0.1, 0.8, 0, 0.1, 0, 0, 0.1, 0.9] };
    assert.equal(top1Agreement(a, b), 2 / 3);
    assert.equal(top1Agreement(a, a), 1);
    assert.equal(top1Agreement(a, { dims: [3, 3], data: new Array(9).fill(0) }), 0);
  });

  it('IoU of boxes', () => {
    assert.equal(iou(box(0, 0, 2, 2), box(0, 0, 2, 2)), 1);
    assert.equal(iou(box(0, 0, 2, 2), box(1, 0, 3, 2)), 2 / 6);
    assert.equal(iou(box(0, 0, 1, 1), box(2, 2, 3, 3)), 0);
  });

  it('boxes: matched one to one, best pairs first; a missed box counts 0', () => {
    const a = [box(0, 0, 2, 2), box(10, 10, 12, 12)];
    assert.equal(boxAgreement(a, a), 1);
    assert.equal(boxAgreement(a, [box(0, 0, 2, 2)]), 0.5, 'one of two found');
    assert.equal(boxAgreement([], []), 1, 'both found nothing');
    assert.equal(boxAgreement(a, []), 0);
    // Two candidates overlap the same box: only the better one matches it.
    const b = [box(0, 0, 2, 2), box(1, 0, 3, 2)];
    assert.equal(boxAgreement([box(0, 0, 2, 2)], b), 0.5);
  });

  it('reads boxes from [1, N, 5] with a score threshold', () => {
    const t = { dims: [1, 3, 5], data: [0, 0, 1, 1, 0.9, 5, 5, 6, 6, 0.2, 2, 2, 3, 3, 0.6] };
    assert.equal(boxesOf(t).length, 3);
    assert.deepEqual(boxesOf(t, 0.5), [box(0, 0, 1, 1), box(2, 2, 3, 3)]);
    assert.deepEqual(boxesOf({ dims: [2, 3], data: [1, 2, 3, 4, 5, 6] }), [], 'not boxes');
  });

  it('picks the comparison the metadata names', () => {
    const a = { dims: [1, 2], data: [1, 0] };
    const b = { dims: [1, 2], data: [0.9, 0.1] };
    assert.equal(agreement('top1', a, b), 1);
    assert.ok(agreement('cosine', a, b) < 1);
    assert.deepEqual(shadowSettingsOf(undefined), {
      comparison: 'cosine',
      output: null,
      minScore: 0,
    });
    assert.deepEqual(
      shadowSettingsOf({ shadow: { compare: 'boxes', output: 'dets', min_score: 0.3 } }),
      {
        comparison: 'boxes',
        output: 'dets',
        minScore: 0.3,
      },
    );
    assert.throws(
      () => shadowSettingsOf({ shadow: { compare: 'l2' } }),
      /must be one of top1, boxes, cosine/,
    );
  });
});
