import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkDeviceId,
  checkMqttUrl,
  checkRole,
  checkTokenName,
  parseLabels,
  parseOnline,
  parseWindow,
} from './fleet-args.js';

describe('fleet command arguments', () => {
  it('parses repeated --label key=value pairs', () => {
    assert.equal(parseLabels(undefined), undefined);
    assert.deepEqual(parseLabels(['site=north', 'note=a=b', 'empty=']), {
      site: 'north',
      note: 'a=b',
      empty: '',
    });
    assert.throws(() => parseLabels(['site']), /key=value/);
    assert.throws(() => parseLabels(['=x']), /key=value/);
    assert.throws(() => parseLabels(['a=1', 'a=2']), /twice/);
  });

  it('checks device ids, roles, token names, --online and --mqtt-url', () => {
    assert.equal(checkDeviceId('cam-1'), 'cam-1');
    assert.throws(() => checkDeviceId('me'), /reserved/);
    assert.throws(() => checkDeviceId('Cam'), /device id/);
    assert.equal(checkRole('viewer'), 'viewer');
    assert.throws(() => checkRole('root'), /admin, operator, viewer/);
    assert.equal(checkTokenName('nightly-ci'), 'nightly-ci');
    assert.throws(() => checkTokenName('has space'), /token name/);
    assert.equal(parseOnline('false'), false);
    assert.throws(() => parseOnline('yes'), /true or false/);
    assert.equal(checkMqttUrl('mqtts://hub:8883'), 'mqtts://hub:8883');
    assert.throws(() => checkMqttUrl('http://hub'), /mqtt:\/\//);
  });

  it('reads maintenance windows as DAYS HH:MM-HH:MM [TIME_ZONE]', () => {
    assert.deepEqual(parseWindow('mon-fri 22:00-04:00 Europe/Berlin'), {
      days: ['mon', 'tue', 'wed', 'thu', 'fri'],
      start: '22:00',
      end: '04:00',
      time_zone: 'Europe/Berlin',
    });
    assert.deepEqual(parseWindow('sat,sun 01:00-05:00').days, ['sat', 'sun']);
    assert.deepEqual(parseWindow('fri-mon 01:00-05:00').days, ['mon', 'fri', 'sat', 'sun']);
    assert.equal(parseWindow('daily 01:00-05:00').days.length, 7);
    for (const bad of ['mon', 'funday 01:00-02:00', 'mon 1:00-2:00', 'mon 01:00-02:00 UTC extra'])
      assert.throws(() => parseWindow(bad), /must be DAYS HH:MM-HH:MM \[TIME_ZONE\]/);
  });
});
