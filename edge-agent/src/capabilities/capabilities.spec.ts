import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capabilitiesOf, maxOpsetOf } from './capabilities.js';

describe('device capabilities', () => {
  it('maps an onnxruntime version to the highest opset it loads', () => {
    assert.equal(maxOpsetOf('1.20.1'), 21);
    assert.equal(maxOpsetOf('1.17.0'), 20);
    assert.equal(maxOpsetOf('1.30.0'), 26);
    assert.equal(maxOpsetOf('1.25.0'), 22, 'between rows: the lower one');
    assert.equal(maxOpsetOf('1.99.0'), 26, 'newer than the table: its last row');
    assert.equal(maxOpsetOf('1.4.0'), 15, 'older than the table: its first row');
    assert.equal(maxOpsetOf('2.0.0'), undefined);
    assert.equal(maxOpsetOf('dev'), undefined);
  });

  it('reports memory in MiB, the configured limit first, and the labels', () => {
    const facts = {
      ortVersion: '1.20.0',
      arch: 'arm64',
      totalMemoryBytes: 4 * 1024 ** 3 + 5,
      labels: ['camera:ip67'],
    };
    assert.deepEqual(capabilitiesOf(facts), {
      ort_version: '1.20.0',
      max_opset: 21,
      execution_providers: ['cpu'],
      arch: 'arm64',
      memory_mb: 4096,
      labels: ['camera:ip67'],
    });
    assert.equal(capabilitiesOf({ ...facts, memoryMb: 512 }).memory_mb, 512);
    const unknown = capabilitiesOf({ ...facts, ortVersion: undefined });
    assert.equal(unknown.max_opset, undefined);
    assert.equal(unknown.ort_version, undefined);
  });
});
