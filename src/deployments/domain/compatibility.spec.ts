import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assign, incompatibilities } from './compatibility.js';

const jetson = {
  ort_version: '1.17.0',
  max_opset: 20,
  execution_providers: ['cpu', 'cuda'],
  arch: 'arm64',
  memory_mb: 4096,
  labels: ['camera:ip67', 'site:berlin'],
};
const pi = {
  ort_version: '1.20.0',
  max_opset: 21,
  execution_providers: ['cpu'],
  arch: 'arm64',
  memory_mb: 512,
  labels: ['site:berlin'],
};

describe('compatibility of a device with a model', () => {
  it('a model without requirements runs anywhere its opset loads', () => {
    assert.deepEqual(incompatibilities(jetson, {}), []);
    assert.deepEqual(incompatibilities(jetson, { opset: 20 }), []);
    assert.deepEqual(incompatibilities(jetson, { opset: 21 }), ['opset 21 > device max 20']);
  });

  it('names every unmet requirement', () => {
    const needs = {
      opset: 21,
      labels: ['camera:ip67'],
      min_memory_mb: 1024,
      execution_providers: ['cuda'],
    };
    assert.deepEqual(incompatibilities(pi, needs), [
      'label camera:ip67 missing',
      'memory 512 MiB < 1024 MiB',
      'execution provider cuda missing (device has cpu)',
    ]);
    assert.deepEqual(incompatibilities(jetson, { ...needs, opset: 13 }), []);
  });

  it('an execution provider requirement is met by any one of them, case aside', () => {
    assert.deepEqual(incompatibilities(pi, { execution_providers: ['CUDA', 'CPU'] }), []);
  });

  it('what a device did not report is not held against it', () => {
    const partial = { labels: ['camera:ip67'] };
    assert.deepEqual(
      incompatibilities(partial, { opset: 99, min_memory_mb: 1, execution_providers: ['cuda'] }),
      [],
    );
    assert.deepEqual(incompatibilities({}, { labels: ['camera:ip67'] }), [
      'label camera:ip67 missing',
    ]);
  });
});

describe('assigning a deployment to its target devices', () => {
  const needs = { opset: 13, labels: ['camera:ip67'] };

  it('skips incompatible devices with the reasons; unknown ones are reached', () => {
    const result = assign(
      [
        { id: 'cam-1', capabilities: jetson },
        { id: 'cam-2', capabilities: pi },
        { id: 'cam-old', capabilities: null },
      ],
      needs,
    );
    assert.deepEqual(result, {
      assigned: ['cam-1', 'cam-old'],
      unknown: ['cam-old'],
      skipped: [{ id: 'cam-2', detail: 'label camera:ip67 missing' }],
      refusal: null,
    });
  });

  it('is refused when no target device is compatible, naming some of them', () => {
    const devices = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, capabilities: pi }));
    const result = assign(devices, { ...needs, min_memory_mb: 1024 });
    assert.deepEqual(result.assigned, []);
    assert.equal(result.skipped.length, 5);
    assert.equal(
      result.refusal,
      'no target device is compatible with the model (' +
        'a: label camera:ip67 missing; memory 512 MiB < 1024 MiB; ' +
        'b: label camera:ip67 missing; memory 512 MiB < 1024 MiB; ' +
        'c: label camera:ip67 missing; memory 512 MiB < 1024 MiB; and 2 more)',
    );
  });

  it('one device of unknown capabilities is enough not to refuse; no devices is not refused', () => {
    assert.equal(
      assign(
        [
          { id: 'a', capabilities: pi },
          { id: 'b', capabilities: null },
        ],
        needs,
      ).refusal,
      null,
    );
    assert.deepEqual(assign([], needs), { assigned: [], unknown: [], skipped: [], refusal: null });
  });
});
