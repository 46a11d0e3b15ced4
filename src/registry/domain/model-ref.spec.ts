import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseModelRef } from './model-ref.js';

describe('model references', () => {
  it('reads a UUID as an id, in lower case', () => {
    assert.deepEqual(parseModelRef('0B6F3C8E-1D2A-4F5B-9C7D-8E9F0A1B2C3D'), {
      id: '0b6f3c8e-1d2a-4f5b-9c7d-8e9f0a1b2c3d',
    });
  });

  for (const [ref, name, version] of [
    ['detector@2.0.0', 'detector', '2.0.0'],
    ['yolov10@20261206', 'yolov10', '20261206'],
    ['det.v2_small@2026.12.6', 'det.v2_small', '2026.12.6'],
    ['resnet-50@1.0.0-rc.1+build.5', 'resnet-50', '1.0.0-rc.1+build.5'],
    // A name shaped like a UUID is still a name when a version follows.
    ['0b6f3c8e-1d2a-4f5b-9c7d-8e9f0a1b2c3d@1.0.0', '0b6f3c8e-1d2a-4f5b-9c7d-8e9f0a1b2c3d', '1.0.0'],
  ]) {
    it(`reads ${ref} as name and version`, () => {
      assert.deepEqual(parseModelRef(ref), { name, version });
    });
  }

  it('reads name@alias when what follows "@" starts with a letter', () => {
    assert.deepEqual(parseModelRef('detector@champion'), { name: 'detector', alias: 'champion' });
    assert.deepEqual(parseModelRef('detector@canary_2'), { name: 'detector', alias: 'canary_2' });
  });

  for (const ref of [
    '',
    'detector@Champion',
    'detector@champion.v2',
    `detector@a${'b'.repeat(63)}`,
    'detector',
    'not-a-uuid',
    '@1.0.0',
    'detector@',
    'Detector@1.0.0',
    'a/b@1.0.0',
    'detector@1.0.0/../x',
    'detector@1.0.0@2',
    'detector@ 1.0.0',
    'detector@.1',
    `detector@${'1'.repeat(129)}`,
    42,
    null,
  ]) {
    it(`refuses ${JSON.stringify(ref)} with a reason`, () => {
      const parsed = parseModelRef(ref);
      assert.ok('problem' in parsed, JSON.stringify(parsed));
      assert.match(parsed.problem, /model/);
    });
  }
});
