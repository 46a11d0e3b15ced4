import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseModelRef } from '../registry/domain/model-ref.js';
import { EXIT } from './cli-errors.js';
import { checkModelRef, isModelRef } from './model-ref.js';

const SAMPLES = [
  'detector@2.0.0',
  'yolov10@20261206',
  'det.v2_small@2026.12.6',
  'resnet-50@1.0.0-rc.1+build.5',
  '0B6F3C8E-1D2A-4F5B-9C7D-8E9F0A1B2C3D',
  '0b6f3c8e-1d2a-4f5b-9c7d-8e9f0a1b2c3d@1.0.0',
  '',
  'detector',
  '@1.0.0',
  'detector@',
  'Detector@1.0.0',
  'a/b@1.0.0',
  'a..b@1.0.0',
  'detector@1.0.0/../x',
  'detector@1.0.0@2',
  'detector@ 1.0.0',
  `detector@${'1'.repeat(129)}`,
  `${'a'.repeat(129)}@1.0.0`,
];

describe('model references on the command line', () => {
  for (const sample of SAMPLES) {
    it(`agrees with the hub on ${JSON.stringify(sample)}`, () => {
      assert.equal(isModelRef(sample), !('problem' in parseModelRef(sample)));
    });
  }

  it('sends a UUID in lower case and name@version as typed', () => {
    assert.equal(
      checkModelRef('model', '0B6F3C8E-1D2A-4F5B-9C7D-8E9F0A1B2C3D'),
      '0b6f3c8e-1d2a-4f5b-9c7d-8e9f0a1b2c3d',
    );
    assert.equal(checkModelRef('model', 'yolov10@20261206'), 'yolov10@20261206');
  });

  it('refuses anything else as a usage error that shows the accepted forms', () => {
    assert.throws(
      () => checkModelRef('model', 'detector'),
      (err: Error & { exitCode?: number }) =>
        err.exitCode === EXIT.USAGE && /UUID\) or name@version/.test(err.message),
    );
  });
});
