import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ModelVersion } from './hub-api.js';
import {
  createUploadProgress,
  formatBytes,
  formatJson,
  formatModelDetail,
  formatModelList,
  formatPushSummary,
  formatTable,
  formatTimestamp,
} from './output.js';

function model(overrides: Partial<ModelVersion> = {}): ModelVersion {
  return {
    id: 'id-1',
    name: 'resnet',
    version: '1.2.0',
    model_type: 'classifier',
    framework: 'pytorch',
    stage: 'staging',
    sha256: 'ab'.repeat(32),
    size: 5 * 1024 * 1024,
    metadata: { dataset: 'v3' },
    onnx: {
      opset: 17,
      producer_name: 'pytorch',
      inputs: [{ name: 'x', elem_type: 'float', shape: [1] }],
      outputs: [
        { name: 'y', elem_type: 'float', shape: [1] },
        { name: 'z', elem_type: 'float', shape: [1] },
      ],
      parameter_count: 42,
    },
    tags: ['edge', 'int8'],
    parent_id: null,
    created_by: 'token:ci',
    signature: {
      key_hint: 'ci@example.org',
      kind: 'dsse',
      bundle_media_type: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      verified_at: '2025-01-31T12:34:56.789Z',
    },
    created_at: '2025-01-31T12:34:56.789Z',
    updated_at: '2025-02-01T00:00:00.000Z',
    ...overrides,
  };
}

describe('output formatting', () => {
  it('formats byte counts in IEC units', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(5 * 1024 * 1024), '5.0 MiB');
    assert.equal(formatBytes(3 * 1024 ** 5), '3072.0 TiB');
  });

  it('formats timestamps in UTC to the minute and passes other text through', () => {
    assert.equal(formatTimestamp('2025-01-31T12:34:56.789Z'), '2025-01-31 12:34Z');
    assert.equal(formatTimestamp('2025-01-31T12:34:56+02:00'), '2025-01-31 10:34Z');
    assert.equal(formatTimestamp('soon'), 'soon');
  });

  it('aligns table columns without trailing spaces', () => {
    assert.equal(
      formatTable(
        ['A', 'LONG'],
        [
          ['xyz', '1'],
          ['p', ''],
        ],
      ),
      'A    LONG\nxyz  1\np\n',
    );
  });

  it('prints the model list as a table with a page footer when truncated', () => {
    const text = formatModelList({
      items: [model(), model({ id: 'id-22', version: '1.10.0', stage: 'production', size: 900 })],
      total: 7,
      limit: 2,
      offset: 2,
    });
    assert.equal(
      text,
      'ID     NAME    VERSION  STAGE       TYPE        SIZE     CREATED\n' +
        'id-1   resnet  1.2.0    staging     classifier  5.0 MiB  2025-01-31 12:34Z\n' +
        'id-22  resnet  1.10.0   production  classifier  900 B    2025-01-31 12:34Z\n' +
        '3-4 of 7\n',
    );
  });

  it('says so when the list is empty', () => {
    assert.equal(
      formatModelList({ items: [], total: 0, limit: 20, offset: 0 }),
      'no model versions found\n',
    );
    assert.equal(
      formatModelList({ items: [], total: 3, limit: 20, offset: 40 }),
      'no model versions at offset 40 (total 3)\n',
    );
  });

  it('summarises a push with id, name@version, sha256 and size', () => {
    assert.equal(
      formatPushSummary(model()),
      'pushed resnet@1.2.0\n' +
        '  id      id-1\n' +
        `  sha256  ${'ab'.repeat(32)}\n` +
        '  size    5.0 MiB (5242880 bytes)\n',
    );
  });

  it('details a model, including unsigned ones without ONNX info', () => {
    assert.equal(
      formatModelDetail(model()),
      'resnet@1.2.0\n' +
        '  id          id-1\n' +
        '  type        classifier\n' +
        '  framework   pytorch\n' +
        '  stage       staging\n' +
        `  sha256      ${'ab'.repeat(32)}\n` +
        '  size        5.0 MiB (5242880 bytes)\n' +
        '  tags        edge, int8\n' +
        '  parent      -\n' +
        '  signature   dsse (ci@example.org)\n' +
        '  onnx opset  17\n' +
        '  producer    pytorch\n' +
        '  parameters  42\n' +
        '  inputs      1\n' +
        '  outputs     2\n' +
        '  created     2025-01-31 12:34Z\n' +
        '  updated     2025-02-01 00:00Z\n' +
        '  metadata    {"dataset":"v3"}\n',
    );
    const bare = formatModelDetail(
      model({ onnx: null, format: 'pytorch', signature: null, metadata: {}, tags: [] }),
    );
    assert.match(bare, /\n {2}signature +unsigned\n/);
    assert.match(bare, /\n {2}framework +pytorch\n {2}format +pytorch\n/);
    assert.doesNotMatch(bare, /opset/);
  });

  it('prints indented JSON with a trailing newline', () => {
    assert.equal(formatJson({ a: 1 }), '{\n  "a": 1\n}\n');
  });
});

describe('createUploadProgress', () => {
  function capture(isTTY: boolean) {
    const writes: string[] = [];
    return { writes, stream: { isTTY, columns: 100, write: (text: string) => writes.push(text) } };
  }

  it('writes nothing when the stream is not a terminal or progress is disabled', () => {
    for (const [isTTY, enabled] of [
      [false, true],
      [true, false],
    ]) {
      const { writes, stream } = capture(isTTY);
      const progress = createUploadProgress(stream, enabled);
      progress.update(10, 100);
      progress.update(100, 100);
      progress.stop();
      assert.deepEqual(writes, []);
    }
  });

  it('draws a byte bar on a terminal and can be stopped twice', () => {
    const { writes, stream } = capture(true);
    const progress = createUploadProgress(stream, true);
    progress.update(512 * 1024, 1024 * 1024);
    progress.stop();
    progress.stop();
    assert.match(writes.join(''), /uploading \[.*\] 50% \| 512\.0 KiB \/ 1\.0 MiB/);
  });
});
