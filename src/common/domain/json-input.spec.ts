import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonProblem, MAX_JSON_DEPTH, textProblem } from './json-input.js';
import { parseQueryInt } from '../query-int.js';

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
};

describe('textProblem', () => {
  it('accepts any well-formed text without NUL, surrogate pairs included', () => {
    for (const text of ['', 'plain', 'ünïcødé', '😀 emoji', '\u0001\u001f', '\uffff'])
      assert.equal(textProblem(text), null, JSON.stringify(text));
  });
  it('refuses NUL characters and lone surrogates', () => {
    assert.match(textProblem('a\u0000b')!, /NUL/);
    assert.match(textProblem('\ud800')!, /surrogate/);
    assert.match(textProblem('x\udc00y')!, /surrogate/);
    assert.match(textProblem('😀'.slice(0, 1))!, /surrogate/);
  });
});

describe('jsonProblem', () => {
  it('accepts values up to the depth limit', () => {
    assert.equal(jsonProblem(nested(MAX_JSON_DEPTH)), null);
    assert.equal(jsonProblem({ a: [1, 'x', null, true, { b: {} }] }), null);
    assert.equal(jsonProblem(null), null);
    assert.equal(jsonProblem('text'), null);
  });
  it('refuses deeper values, however deep, without recursing', () => {
    assert.match(jsonProblem(nested(MAX_JSON_DEPTH + 1))!, /nested deeper than 32 levels/);
    assert.match(jsonProblem(nested(200_000))!, /nested deeper than 32 levels/);
  });
  it('names where a bad string or key is', () => {
    assert.equal(
      jsonProblem({ metadata: { tags: ['ok', 'a\u0000'] } }),
      'body.metadata.tags[1] must not contain NUL characters (\\u0000)',
    );
    assert.match(jsonProblem({ '\ud800': 1 }, 'metadata')!, /^a key of metadata /);
    assert.match(jsonProblem('\ud800', 'name')!, /^name must be valid Unicode/);
  });
});

describe('parseQueryInt', () => {
  it('reads plain decimal digits', () => {
    assert.equal(parseQueryInt('0'), 0);
    assert.equal(parseQueryInt('500'), 500);
    assert.equal(parseQueryInt('007'), 7);
    assert.equal(parseQueryInt('2147483647'), 2147483647);
  });
  it('gives NaN for anything else, so the range check refuses it', () => {
    for (const value of ['', ' 1', '1 ', '-1', '+1', '1e3', '1.0', '0x10', 'abc', '9'.repeat(16)])
      assert.ok(Number.isNaN(parseQueryInt(value)), JSON.stringify(value));
    for (const value of [undefined, null, 5, ['1', '2'], { a: '1' }])
      assert.ok(Number.isNaN(parseQueryInt(value)), JSON.stringify(value));
  });
});
