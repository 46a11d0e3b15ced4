import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkDeviceId,
  checkDeviceName,
  checkFleetId,
  checkLabels,
  firstProblem,
} from './fleet-rules.js';

describe('checkFleetId', () => {
  it('accepts ids that are one MQTT topic level', () => {
    for (const id of ['cam-1', 'yard', 'a', '0.edge_gw-7', 'x'.repeat(64)]) {
      assert.equal(checkFleetId('id', id), null, id);
    }
  });

  it('refuses upper case, topic separators, wildcards, "$", spaces and over-long ids, naming the field', () => {
    for (const id of ['Cam-1', 'a/b', 'a+b', 'a#', '$sys', '-cam', '.cam', 'a b', 'x'.repeat(65)]) {
      assert.match(checkFleetId('group', id) ?? '', /^group ".*" must be 1-64 characters/, id);
    }
  });

  it('says the field is required when it is missing or empty', () => {
    assert.equal(checkFleetId('id', ''), 'id is required');
    assert.equal(checkFleetId('id', undefined), 'id is required');
  });
});

describe('checkDeviceId', () => {
  it('is checkFleetId, and keeps "me" free for GET /api/v1/devices/me', () => {
    assert.equal(checkDeviceId('id', 'cam-1'), null);
    assert.equal(checkDeviceId('id', 'meter'), null);
    assert.match(checkDeviceId('id', 'Cam') ?? '', /^id "Cam" must be 1-64 characters/);
    assert.equal(
      checkDeviceId('id', 'me'),
      'id "me" is reserved (GET /api/v1/devices/me is the calling device)',
    );
  });
});

describe('checkLabels', () => {
  it('accepts a flat map of strings, and an empty one', () => {
    assert.equal(checkLabels('labels', { site: 'north', 'k8s.io/zone': 'b' }), null);
    assert.equal(checkLabels('labels', {}), null);
  });

  it('refuses arrays, nested values, bad keys and long values', () => {
    assert.equal(checkLabels('labels', ['a']), 'labels must be a JSON object of string values');
    assert.equal(checkLabels('labels', { site: 3 }), 'labels.site must be a string');
    assert.match(checkLabels('labels', { 'bad key': 'x' }) ?? '', /labels key "bad key"/);
    assert.match(checkLabels('labels', { k: 'v'.repeat(257) }) ?? '', /at most 256/);
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
    assert.equal(checkLabels('labels', many), 'labels may hold at most 64 entries');
  });
});

describe('checkDeviceName / firstProblem', () => {
  it('wants a non-empty name of bounded length', () => {
    assert.equal(checkDeviceName('Gate camera 3'), null);
    assert.equal(checkDeviceName('  '), 'name must be a non-empty string');
    assert.match(checkDeviceName('n'.repeat(201)) ?? '', /at most 200/);
  });

  it('returns the first problem in argument order', () => {
    assert.equal(firstProblem(null, 'b', 'c'), 'b');
    assert.equal(firstProblem(null, null), null);
  });
});
