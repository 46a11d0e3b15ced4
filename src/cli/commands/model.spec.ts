import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../cli-errors.js';
import {
  checkMetadata,
  checkStage,
  checkUploadFile,
  checkVersion,
  parseCount,
  parseTags,
  preparePush,
  prepareListQuery,
  readSignatureBundle,
  type PushCliOptions,
} from './model.js';

function usageError(message: string) {
  return (err: unknown) =>
    err instanceof UsageError && err.exitCode === 2 && err.message === message;
}

describe('model option validation', () => {
  it('accepts canonical semver, nightly dates and CalVer as typed, with a hint for near misses', () => {
    for (const ok of [
      '1.2.3',
      '0.0.1',
      '1.0.0-rc.1',
      '1.0.0-rc.1+build.5',
      '2.0.0+sha.abc',
      '20261206',
      '2026.12.06',
      '2026.12.6.2',
    ]) {
      assert.equal(checkVersion(ok), ok);
    }
    assert.throws(
      () => checkVersion('1.x'),
      usageError(
        '--version "1.x" is not a semantic version (1.2.0), a nightly date (20261206) or a calendar version (2026.12.6)',
      ),
    );
    assert.throws(
      () => checkVersion('1.2'),
      usageError(
        '--version "1.2" is not a semantic version (1.2.0), a nightly date (20261206) or a calendar version (2026.12.6)',
      ),
    );
    assert.throws(
      () => checkVersion('01.2.3'),
      usageError(
        '--version "01.2.3" is not a semantic version (1.2.0), a nightly date (20261206) or a calendar version (2026.12.6)',
      ),
    );
    assert.throws(
      () => checkVersion('v1.2.3'),
      usageError(
        '--version "v1.2.3" is not a semantic version (1.2.0), a nightly date (20261206) or a calendar version (2026.12.6) (did you mean "1.2.3"?)',
      ),
    );
    assert.throws(() => checkVersion(' 1.2.3'), /did you mean "1\.2\.3"/);
    assert.throws(() => checkVersion('20261332'), /nightly date/);
  });

  it('accepts the three stages', () => {
    assert.equal(checkStage('production'), 'production');
    assert.throws(
      () => checkStage('prod'),
      usageError('--stage "prod" must be one of staging, production, archived'),
    );
  });

  it('requires metadata to be a JSON object and returns it verbatim', () => {
    const text = '{ "big": 12345678901234567890 }';
    assert.equal(checkMetadata(text), text);
    assert.throws(() => checkMetadata('{bad'), /^UsageError: --metadata is not valid JSON: /);
    for (const notObject of ['[1]', 'null', '"s"', '3']) {
      assert.throws(() => checkMetadata(notObject), /--metadata must be a JSON object/);
    }
  });

  it('splits, trims and deduplicates tags', () => {
    assert.deepEqual(parseTags(' edge, int8,,edge '), ['edge', 'int8']);
    assert.deepEqual(parseTags(''), []);
  });

  it('parses counts as integers with a lower bound', () => {
    assert.equal(parseCount('--offset', '0', 0), 0);
    assert.equal(parseCount('--limit', '25', 1), 25);
    for (const bad of ['0', '-1', '1.5', 'ten', '', '99999999999999999999']) {
      assert.throws(
        () => parseCount('--limit', bad, 1),
        usageError(`--limit "${bad}" must be an integer >= 1`),
      );
    }
  });

  it('validates list filters', () => {
    assert.deepEqual(prepareListQuery({ name: 'r', stage: 'staging', limit: '5', offset: '10' }), {
      name: 'r',
      stage: 'staging',
      modelType: undefined,
      sort: undefined,
      limit: 5,
      offset: 10,
    });
    assert.equal(prepareListQuery({ sort: 'version' }).sort, 'version');
    assert.throws(() => prepareListQuery({ stage: 'live' }), /--stage "live" must be one of/);
    assert.throws(() => prepareListQuery({ sort: 'semver' }), /--sort "semver" must be/);
  });
});

describe('model push preparation', () => {
  let dir: string;
  let modelPath: string;
  let bundlePath: string;

  const options = (overrides: Partial<PushCliOptions> = {}): PushCliOptions => ({
    name: 'resnet',
    version: '1.2.0',
    modelType: 'classifier',
    framework: 'pytorch',
    stage: 'staging',
    ...overrides,
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sentinel-model-cmd-'));
    modelPath = join(dir, 'resnet.onnx');
    await writeFile(modelPath, Buffer.alloc(1000, 1));
    bundlePath = join(dir, 'bundle.json');
    await writeFile(bundlePath, '{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
    await writeFile(join(dir, 'empty.onnx'), '');
    await writeFile(join(dir, 'not-json.json'), 'not json');
    await mkdir(join(dir, 'a-dir'));
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('checks the upload file exists, is regular and non-empty', async () => {
    assert.equal(await checkUploadFile(modelPath, 'model file'), 1000);
    const missing = join(dir, 'missing.onnx');
    await assert.rejects(
      checkUploadFile(missing, 'model file'),
      usageError(`model file "${missing}" does not exist`),
    );
    const folder = join(dir, 'a-dir');
    await assert.rejects(
      checkUploadFile(folder, 'model file'),
      usageError(`model file "${folder}" is not a regular file`),
    );
    const empty = join(dir, 'empty.onnx');
    await assert.rejects(
      checkUploadFile(empty, 'model file'),
      usageError(`model file "${empty}" is empty`),
    );
  });

  it('reads the signature bundle and requires JSON', async () => {
    const bundle = await readSignatureBundle(bundlePath);
    assert.equal(bundle.filename, 'bundle.json');
    assert.match(bundle.content.toString(), /sigstore/);
    const notJson = join(dir, 'not-json.json');
    await assert.rejects(
      readSignatureBundle(notJson),
      usageError(`--signature "${notJson}" is not a JSON Sigstore bundle`),
    );
    await assert.rejects(
      readSignatureBundle(join(dir, 'nope.json')),
      /--signature ".*nope\.json" does not exist/,
    );
  });

  it('builds the push input from valid options', async () => {
    const input = await preparePush(
      modelPath,
      options({
        metadata: '{"a":1}',
        tags: 'edge,int8',
        parent: 'detector@1.0.0',
        signature: bundlePath,
      }),
    );
    assert.deepEqual(
      { ...input, signature: input.signature?.filename },
      {
        name: 'resnet',
        version: '1.2.0',
        modelType: 'classifier',
        framework: 'pytorch',
        stage: 'staging',
        metadata: '{"a":1}',
        parentId: 'detector@1.0.0',
        tags: ['edge', 'int8'],
        file: { path: modelPath, size: 1000 },
        signature: 'bundle.json',
      },
    );
  });

  it('rejects empty names and the first invalid option', async () => {
    await assert.rejects(
      preparePush(modelPath, options({ name: ' ' })),
      usageError('--name must not be empty'),
    );
    await assert.rejects(
      preparePush(join(dir, 'missing.onnx'), options({ version: '1.x' })),
      usageError(
        '--version "1.x" is not a semantic version (1.2.0), a nightly date (20261206) or a calendar version (2026.12.6)',
      ),
    );
    await assert.rejects(
      preparePush(modelPath, options({ parent: 'p-1' })),
      usageError(
        '--parent "p-1" must be a model version id (UUID), name@version (e.g. detector@2.0.0) or name@alias (e.g. detector@champion)',
      ),
    );
  });
});
