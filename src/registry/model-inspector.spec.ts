import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { corruptModel, fastModel } from '../../test/support/onnx-models.js';
import { tfliteFile, torchScriptFile } from '../../test/support/model-files.js';
import { modelInspector } from './model-inspector.js';

/** Streams `bytes` through an inspector in chunks of `size` and returns what passed and the result. */
async function inspect(bytes: Buffer, size: number) {
  const inspector = modelInspector();
  const chunks: Buffer[] = [];
  const parts = [];
  for (let at = 0; at < bytes.length; at += size) parts.push(bytes.subarray(at, at + size));
  await pipeline(
    Readable.from(parts),
    inspector.transform,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    }),
  );
  return { passed: Buffer.concat(chunks), ...inspector.result() };
}

describe('modelInspector', () => {
  for (const size of [1, 7, 64 * 1024, 1 << 20]) {
    it(`tells the format whatever the chunking (${size}-byte chunks)`, async () => {
      const onnx = await inspect(fastModel(), size);
      assert.equal(onnx.format, 'onnx');
      assert.ok(!(onnx.onnx instanceof Error));
      assert.deepEqual(onnx.passed, fastModel());

      // a tensor larger than the sniffed head: the archive's first entries decide
      const pt = await inspect(torchScriptFile(200 * 1024), size);
      assert.equal(pt.format, 'pytorch');
      assert.match((pt.onnx as Error).message, /PyTorch\/TorchScript file, not an ONNX model/);
      assert.equal(pt.passed.length, torchScriptFile(200 * 1024).length);
    });
  }

  it('says unknown, with the parser reason, for bytes nothing recognises', async () => {
    const result = await inspect(corruptModel(), 3);
    assert.equal(result.format, 'unknown');
    assert.ok(result.onnx instanceof Error);
  });

  it('TFLite', async () => assert.equal((await inspect(tfliteFile(), 5)).format, 'tflite'));

  it('refuses to answer before the stream has ended', () => {
    const inspector = modelInspector();
    inspector.transform.write(fastModel());
    assert.throws(() => inspector.result(), /before the stream ended/);
    inspector.transform.destroy();
  });
});
