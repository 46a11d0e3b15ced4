import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  safetensorsFile,
  savedModelTar,
  tfliteFile,
  torchSaveFile,
  torchScriptFile,
  zipArchive,
} from '../../../test/support/model-files.js';
import { fastModel } from '../../../test/support/onnx-models.js';
import {
  checkDeployable,
  checkFrameworkFormat,
  detectFormat,
  SNIFF_BYTES,
  sniffFormat,
  zipEntryNames,
} from './model-format.js';

describe('sniffing the format of a model file', () => {
  const cases: [string, Buffer, string][] = [
    ['a TorchScript archive', torchScriptFile(), 'pytorch'],
    ['a torch.save checkpoint', torchSaveFile(), 'pytorch'],
    [
      'a legacy (pre-1.6) torch.save pickle',
      Buffer.from('80028a0a6cfc9c46f9206aa8501900000000', 'hex'),
      'pytorch',
    ],
    ['a TFLite flatbuffer', tfliteFile(), 'tflite'],
    ['a safetensors file', safetensorsFile(), 'safetensors'],
    ['a SavedModel tarball', savedModelTar(), 'tf-savedmodel'],
    [
      'a zipped SavedModel',
      zipArchive([
        ['m/saved_model.pb', 'x'],
        ['m/variables/variables.index', 'y'],
      ]),
      'tf-savedmodel',
    ],
    ['a zip of something else', zipArchive([['readme.txt', 'hello']]), 'unknown'],
    ['text', Buffer.from('not a model at all'), 'unknown'],
    ['an empty file', Buffer.alloc(0), 'unknown'],
    // ONNX has no magic number: the header parser decides (detectFormat)
    ['an ONNX model', fastModel(), 'unknown'],
  ];
  for (const [what, bytes, format] of cases) {
    it(`${what} is ${format}`, () =>
      assert.equal(sniffFormat(bytes.subarray(0, SNIFF_BYTES)), format));
  }

  it('walks a zip entry by entry while the head holds them', () => {
    assert.deepEqual(zipEntryNames(torchScriptFile(16)), [
      'model/data.pkl',
      'model/code/__torch__/model.py',
      'model/constants.pkl',
      'model/data/0',
      'model/version',
    ]);
    // only the first entries start in a short head
    assert.deepEqual(zipEntryNames(torchScriptFile(1 << 20).subarray(0, 200)), [
      'model/data.pkl',
      'model/code/__torch__/model.py',
    ]);
  });

  it('a truncated safetensors header still reads as safetensors', () => {
    assert.equal(sniffFormat(safetensorsFile().subarray(0, 12)), 'safetensors');
  });

  it('ONNX when nothing else matched and the parser accepted the bytes', () => {
    assert.equal(detectFormat('unknown', true), 'onnx');
    assert.equal(detectFormat('unknown', false), 'unknown');
    assert.equal(detectFormat('pytorch', false), 'pytorch');
  });
});

describe('declared framework against detected format', () => {
  it('a training framework takes its native format, ONNX and TFLite exports, and unknown bytes', () => {
    for (const format of ['pytorch', 'onnx', 'tflite', 'safetensors', 'unknown'] as const)
      assert.equal(checkFrameworkFormat('pytorch', format), null, format);
    assert.equal(checkFrameworkFormat('TensorFlow', 'tf-savedmodel'), null);
  });

  it('a contradiction is refused with what the bytes are', () => {
    assert.match(
      checkFrameworkFormat('tflite', 'onnx') ?? '',
      /framework "tflite" does not match the file, which is a ONNX file; expected TFLite/,
    );
    assert.match(checkFrameworkFormat('pytorch', 'tf-savedmodel') ?? '', /SavedModel/);
    assert.match(checkFrameworkFormat('tensorflow', 'pytorch') ?? '', /PyTorch/);
    assert.match(checkFrameworkFormat('safetensors', 'unknown') ?? '', /not a format/);
  });

  it('other labels take any format', () => {
    assert.equal(checkFrameworkFormat('jax', 'safetensors'), null);
    assert.equal(checkFrameworkFormat('sklearn', 'unknown'), null);
  });
});

describe('what the agents can run', () => {
  const model = { id: 'a3c1e0de-0000-4000-8000-000000000001', name: 'yolov10', version: '1.0.0' };
  it('ONNX deploys', () => assert.equal(checkDeployable({ ...model, format: 'onnx' }), null));
  it('anything else is refused with how to link an ONNX export', () => {
    const problem = checkDeployable({ ...model, format: 'pytorch' }) ?? '';
    assert.match(problem, /yolov10@1\.0\.0 is a PyTorch\/TorchScript file/);
    assert.match(problem, /run ONNX models only/);
    assert.match(problem, new RegExp(`parent_id=${model.id}`));
  });
});
