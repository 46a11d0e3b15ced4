import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStorageFull } from './storage-errors.js';

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe('isStorageFull', () => {
  it('knows a full filesystem, a spent quota, a full database and a full MinIO', () => {
    for (const code of ['ENOSPC', 'EDQUOT', '53100', 'XMinioStorageFull'])
      assert.equal(isStorageFull(withCode(code)), true, code);
  });
  it('looks through the errors that wrap one', () => {
    assert.equal(isStorageFull(new Error('put failed', { cause: withCode('ENOSPC') })), true);
    assert.equal(
      isStorageFull(Object.assign(new Error('query'), { driverError: withCode('53100') })),
      true,
    );
  });
  it('is false for anything else, cycles included', () => {
    for (const error of [withCode('EACCES'), withCode('23505'), new Error('x'), null, 'ENOSPC', 42])
      assert.equal(isStorageFull(error), false, String(error));
    const a: { cause?: unknown } = {};
    a.cause = a;
    assert.equal(isStorageFull(a), false);
  });
});
