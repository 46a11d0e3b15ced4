import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXIT } from './cli-errors.js';
import { checkModelRef, isModelRef } from './model-ref.js';

describe('model references on the command line', () => {
  for (const sample of [
    'detector@2.0.0',
    'yolov10@20261206',
    '0B6F3C8E-1D2A-4F5B-9C7D-8E9F0A1B2C3D',
    'detector@champion',
  ]) {
    it(`takes ${sample}`, () => assert.equal(isModelRef(sample), true));
  }
  for (const sample of ['', 'detector', 'Detector@1.0.0', 'detector@Champion', 'a/b@1.0.0']) {
    it(`refuses ${JSON.stringify(sample)}`, () => assert.equal(isModelRef(sample), false));
  }

  it('sends a UUID in lower case, name@version and name@alias as typed', () => {
    assert.equal(
      checkModelRef('model', '0B6F3C8E-1D2A-4F5B-9C7D-8E9F0A1B2C3D'),
      '0b6f3c8e-1d2a-4f5b-9c7d-8e9f0a1b2c3d',
    );
    assert.equal(checkModelRef('model', 'yolov10@20261206'), 'yolov10@20261206');
    assert.equal(checkModelRef('model', 'detector@champion'), 'detector@champion');
  });

  it('refuses anything else as a usage error that shows the accepted forms', () => {
    assert.throws(
      () => checkModelRef('model', 'detector'),
      (err: Error & { exitCode?: number }) =>
        err.exitCode === EXIT.USAGE && /UUID\), name@version .* or name@alias/.test(err.message),
    );
  });
});
