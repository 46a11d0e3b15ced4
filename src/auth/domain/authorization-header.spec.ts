import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readAuthorization } from './authorization-header.js';

const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

describe('readAuthorization', () => {
  it('reads a bearer token', () => {
    assert.deepEqual(readAuthorization('Bearer stl_abc'), { scheme: 'bearer', token: 'stl_abc' });
    assert.deepEqual(readAuthorization('bearer stl_abc'), { scheme: 'bearer', token: 'stl_abc' });
  });

  it('reads a device credential from Basic, splitting at the first colon', () => {
    assert.deepEqual(readAuthorization(basic('cam-1:s3cr:et')), {
      scheme: 'basic',
      deviceId: 'cam-1',
      secret: 's3cr:et',
    });
    assert.deepEqual(readAuthorization(basic('cam-1:').replace('Basic', 'basic')), {
      scheme: 'basic',
      deviceId: 'cam-1',
      secret: '',
    });
    // base64 without its padding, as some clients send it
    const unpadded = basic('cam-1:x').replace(/=+$/, '');
    assert.deepEqual(readAuthorization(unpadded), {
      scheme: 'basic',
      deviceId: 'cam-1',
      secret: 'x',
    });
  });

  it('calls a Basic header malformed when it is not base64 of "id:secret"', () => {
    for (const header of ['Basic', 'Basic ', 'Basic %%%', 'Basic a b', basic('no-colon')]) {
      assert.deepEqual(readAuthorization(header), { scheme: 'malformed-basic' }, header);
    }
  });

  it('ignores a missing header and other schemes', () => {
    assert.equal(readAuthorization(undefined), null);
    assert.equal(readAuthorization(''), null);
    assert.equal(readAuthorization('Digest username="x"'), null);
    assert.equal(readAuthorization('Basically nothing'), null);
    assert.equal(readAuthorization('Bearer a b'), null);
  });
});
