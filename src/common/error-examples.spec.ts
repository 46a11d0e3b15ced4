import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_STATUS } from './domain-error.js';
import {
  DEVICE_ERROR_EXAMPLES,
  DEVICE_ONLY_ERROR_EXAMPLES,
  ERROR_EXAMPLES,
  errorExample,
} from './error-examples.js';

describe('error response examples', () => {
  const tables = { ERROR_EXAMPLES, DEVICE_ERROR_EXAMPLES, DEVICE_ONLY_ERROR_EXAMPLES };
  for (const [table, examples] of Object.entries(tables)) {
    it(`${table}: each example has the status it documents and a code of that status`, () => {
      for (const [status, example] of Object.entries(examples)) {
        assert.equal(example.statusCode, Number(status), `${table}[${status}]`);
        assert.equal(ERROR_STATUS[example.error], Number(status), `${table}[${status}]`);
        assert.ok(example.message.length > 0);
      }
    });
  }

  it('401 and 403 show an authentication and a permission error, not a 400', () => {
    assert.equal(errorExample(401).error, 'UNAUTHENTICATED');
    assert.equal(errorExample(403).error, 'FORBIDDEN');
    assert.equal(errorExample(403, DEVICE_ONLY_ERROR_EXAMPLES).statusCode, 403);
  });

  it("a route kind's own example wins; the general one otherwise", () => {
    assert.match(errorExample(401, DEVICE_ERROR_EXAMPLES).message, /device/);
    assert.equal(errorExample(404, DEVICE_ERROR_EXAMPLES), ERROR_EXAMPLES[404]);
  });

  it('a status without an example is a programming error', () => {
    assert.throws(() => errorExample(418), /no error example for status 418/);
  });
});
