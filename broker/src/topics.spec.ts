import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ALL_DEVICE_STATE,
  ALL_DEVICE_TELEMETRY,
  TOPIC_ROOT,
  deviceCommandsTopic,
  deviceDesiredTopic,
  deviceNamedDesiredFilter,
  deviceStateTopic,
  deviceTelemetryTopic,
  groupDesiredTopic,
  groupNamedDesiredFilter,
  isValidId,
  parseTopic,
  topicMatches,
} from './topics.js';

describe('topics', () => {
  it('builds the sentinel/v1 tree', () => {
    assert.equal(TOPIC_ROOT, 'sentinel/v1');
    assert.equal(groupDesiredTopic('lobby'), 'sentinel/v1/groups/lobby/desired');
    assert.equal(deviceDesiredTopic('cam-1'), 'sentinel/v1/devices/cam-1/desired');
    assert.equal(deviceCommandsTopic('cam-1'), 'sentinel/v1/devices/cam-1/commands');
    assert.equal(deviceStateTopic('cam-1'), 'sentinel/v1/devices/cam-1/state');
    assert.equal(deviceTelemetryTopic('cam-1'), 'sentinel/v1/devices/cam-1/telemetry');
    assert.equal(ALL_DEVICE_STATE, 'sentinel/v1/devices/+/state');
    assert.equal(ALL_DEVICE_TELEMETRY, 'sentinel/v1/devices/+/telemetry');
  });

  it('accepts only lowercase ids without separators or wildcards', () => {
    for (const id of ['a', '0', 'cam-0001', 'site1.cam_2', 'x'.repeat(64)]) {
      assert.equal(isValidId(id), true, id);
    }
    for (const id of [
      '',
      'Cam',
      'a/b',
      '+',
      '#',
      'a+',
      '$sys',
      '-a',
      '.a',
      '_a',
      'a b',
      'x'.repeat(65),
      'é',
    ]) {
      assert.equal(isValidId(id), false, id);
    }
    assert.equal(isValidId(42), false);
  });

  it('builders throw on invalid ids instead of building a wildcard topic', () => {
    assert.throws(() => groupDesiredTopic('+'), /invalid group id/);
    assert.throws(() => deviceStateTopic('a/b'), /invalid device id/);
    assert.throws(() => deviceCommandsTopic('#'), /invalid device id/);
    assert.throws(() => deviceTelemetryTopic('CAM'), /invalid device id/);
    assert.throws(() => deviceDesiredTopic(''), /invalid device id/);
  });

  it('parses every kind and round-trips with the builders', () => {
    assert.deepEqual(parseTopic(groupDesiredTopic('lobby')), {
      kind: 'group_desired',
      group: 'lobby',
      name: 'default',
    });
    assert.deepEqual(parseTopic(deviceDesiredTopic('cam-1')), {
      kind: 'device_desired',
      device: 'cam-1',
      name: 'default',
    });
    const cases = [
      [deviceCommandsTopic, 'device_commands'],
      [deviceStateTopic, 'device_state'],
      [deviceTelemetryTopic, 'device_telemetry'],
    ] as const;
    for (const [build, kind] of cases) {
      assert.deepEqual(parseTopic(build('cam-1')), { kind, device: 'cam-1' });
    }
  });

  it('gives every named model its own desired topics; default keeps the unnamed ones', () => {
    assert.equal(groupDesiredTopic('lobby', 'default'), 'sentinel/v1/groups/lobby/desired');
    assert.equal(deviceDesiredTopic('cam-1', 'default'), 'sentinel/v1/devices/cam-1/desired');
    const group = groupDesiredTopic('lobby', 'classifier');
    const device = deviceDesiredTopic('cam-1', 'classifier');
    assert.equal(group, 'sentinel/v1/groups/lobby/models/classifier/desired');
    assert.equal(device, 'sentinel/v1/devices/cam-1/models/classifier/desired');
    assert.deepEqual(parseTopic(group), {
      kind: 'group_desired',
      group: 'lobby',
      name: 'classifier',
    });
    assert.deepEqual(parseTopic(device), {
      kind: 'device_desired',
      device: 'cam-1',
      name: 'classifier',
    });
    assert.equal(groupNamedDesiredFilter('lobby'), 'sentinel/v1/groups/lobby/models/+/desired');
    assert.equal(deviceNamedDesiredFilter('cam-1'), 'sentinel/v1/devices/cam-1/models/+/desired');
    assert.ok(topicMatches(groupNamedDesiredFilter('lobby'), group));
    assert.ok(!topicMatches(groupNamedDesiredFilter('lobby'), groupDesiredTopic('lobby')));
    assert.throws(() => groupDesiredTopic('lobby', 'Bad/Name'), /invalid model name/);
    for (const topic of [
      'sentinel/v1/groups/lobby/models/default/desired',
      'sentinel/v1/groups/lobby/models/+/desired',
      'sentinel/v1/groups/lobby/models/classifier/state',
      'sentinel/v1/devices/cam-1/models/classifier/telemetry',
      'sentinel/v1/groups/lobby/things/classifier/desired',
      'sentinel/v1/devices/cam-1/models/Classifier/desired',
      'sentinel/v1/sites/x/models/classifier/desired',
    ]) {
      assert.equal(parseTopic(topic), null, topic);
    }
  });

  it('returns null for anything outside the tree', () => {
    for (const topic of [
      '',
      'sentinel/v1',
      'sentinel/v2/devices/cam-1/state',
      'other/v1/devices/cam-1/state',
      'sentinel/v1/devices/cam-1',
      'sentinel/v1/devices/cam-1/state/extra',
      'sentinel/v1/devices/cam-1/logs',
      'sentinel/v1/groups/lobby/commands',
      'sentinel/v1/groups/lobby/state',
      'sentinel/v1/devices/+/state',
      'sentinel/v1/devices/CAM-1/state',
      'sentinel/v1/devices//state',
      '/sentinel/v1/devices/cam-1/state',
      'sentinel/v1/things/cam-1/state',
      'sentinel/v1/devices/constructor/toString',
      'sentinel/v1/devices/cam-1/__proto__',
    ]) {
      assert.equal(parseTopic(topic), null, topic);
    }
  });

  it('matches filters as MQTT does', () => {
    assert.equal(topicMatches(ALL_DEVICE_STATE, deviceStateTopic('cam-1')), true);
    assert.equal(topicMatches(ALL_DEVICE_STATE, deviceTelemetryTopic('cam-1')), false);
    assert.equal(topicMatches(ALL_DEVICE_TELEMETRY, deviceTelemetryTopic('cam-1')), true);
    assert.equal(topicMatches('sentinel/v1/#', 'sentinel/v1'), true);
    assert.equal(topicMatches('sentinel/v1/#', deviceStateTopic('cam-1')), true);
    assert.equal(topicMatches('sentinel/+', deviceStateTopic('cam-1')), false);
    assert.equal(topicMatches(ALL_DEVICE_STATE, 'sentinel/v1/devices/cam-1/state/extra'), false);
    assert.equal(topicMatches('#', '$SYS/broker/heartbeat'), false);
    assert.equal(topicMatches('+/broker/heartbeat', '$SYS/broker/heartbeat'), false);
    assert.equal(topicMatches('$SYS/#', '$SYS/broker/heartbeat'), true);
  });
});
