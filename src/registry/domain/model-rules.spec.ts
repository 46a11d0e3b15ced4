import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkLabel,
  checkModelName,
  checkStage,
  checkTags,
  checkVersion,
  parseMetadata,
  parseTags,
} from './model-rules.js';
import { checkPushField, isBlankFilePart } from './model-rules.js';

describe('model names', () => {
  for (const name of ['yolov8n', 'resnet-50', 'det.v2_small', '0model']) {
    it(`accepts ${name}`, () => assert.equal(checkModelName(name), null));
  }
  for (const name of [
    '',
    'YOLO',
    '../etc/passwd',
    'a/b',
    'a\\b',
    'has space',
    '-lead',
    '.hidden',
    'a..b',
    'x'.repeat(129),
    'ünï',
  ]) {
    it(`refuses ${JSON.stringify(name)}`, () => assert.match(checkModelName(name) ?? '', /name/));
  }
});

describe('versions are strict semver', () => {
  for (const version of ['1.0.0', '0.1.2', '2.0.0-rc.1', '1.2.3+build.5']) {
    it(`accepts ${version}`, () => assert.equal(checkVersion(version), null));
  }
  for (const version of [
    '',
    '1',
    '1.0',
    'v1.0.0',
    '1.0.0.0',
    '01.0.0',
    '1.x',
    ' 1.0.0',
    '1.0.0/../',
  ]) {
    it(`refuses ${JSON.stringify(version)}`, () =>
      assert.match(checkVersion(version) ?? '', /version/));
  }
});

describe('stages', () => {
  it('accepts the three stages', () => {
    for (const stage of ['staging', 'production', 'archived'])
      assert.equal(checkStage(stage), null);
  });
  it('refuses others with the list in the message', () => {
    assert.equal(checkStage('prod'), 'stage "prod" must be one of staging, production, archived');
    assert.equal(checkStage(''), 'stage is required');
  });
});

describe('labels and tags', () => {
  it('model_type and framework are bounded printable labels', () => {
    assert.equal(checkLabel('model_type', 'object-detection'), null);
    assert.equal(checkLabel('framework', 'onnx'), null);
    assert.match(checkLabel('framework', 'on nx') ?? '', /framework/);
    assert.equal(checkLabel('framework', ''), 'framework is required');
  });
  it('parses comma-separated tags, trimmed and unique', () => {
    assert.deepEqual(parseTags(' night, rain ,night,,'), ['night', 'rain']);
    assert.deepEqual(parseTags(undefined), []);
  });
  it('refuses bad tags and too many tags', () => {
    assert.match(checkTags(['ok', 'bad tag']) ?? '', /bad tag/);
    assert.match(checkTags(Array.from({ length: 33 }, (_, i) => `t${i}`)) ?? '', /32/);
    assert.equal(checkTags(['dataset:coco-2017', 'team/vision']), null);
  });
});

describe('metadata', () => {
  it('is a JSON object or nothing', () => {
    assert.deepEqual(parseMetadata('{"map": 0.61}'), { metadata: { map: 0.61 } });
    assert.deepEqual(parseMetadata(undefined), { metadata: {} });
    assert.deepEqual(parseMetadata('  '), { metadata: {} });
  });
  it('refuses arrays, scalars and broken JSON', () => {
    for (const raw of ['[1]', '3', '"x"', '{oops', 'null']) {
      assert.deepEqual(parseMetadata(raw), { problem: 'metadata must be a JSON object' });
    }
  });
});

describe('push form fields', () => {
  it('refuses a signature or file sent as text, and unknown fields', () => {
    assert.match(checkPushField('signature') ?? '', /must be sent as a file part/);
    assert.match(checkPushField('descripton') ?? '', /unknown field "descripton"/);
    assert.equal(checkPushField('metadata'), null);
  });

  it("takes an empty text field in a file part's place as no part (a form's untouched file input)", () => {
    assert.equal(isBlankFilePart('signature', ''), true);
    assert.equal(isBlankFilePart('file', ''), true);
    assert.equal(isBlankFilePart('signature', '{"mediaType":"x"}'), false);
    assert.equal(isBlankFilePart('metadata', ''), false);
  });
});
