import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  agentEnvironment,
  defaultMqttUrl,
  desiredModel,
  envValue,
  formatAgentEnvironment,
  formatDesired,
  formatGroupList,
  namedModelLine,
} from './fleet-output.js';
import { formatCapabilities } from './capabilities-line.js';
import type { DeviceWithCredentials } from './hub-api.js';

const issued = {
  id: 'cam-0042',
  group: 'yard',
  environment: 'production',
  credentials: { username: 'cam-0042', password: 'Zm9v_b-ar', client_id: 'cam-0042' },
} as DeviceWithCredentials;

describe('fleet output', () => {
  it('prints the environment an agent reads, password included, one KEY=value a line', () => {
    const env = agentEnvironment(issued, {
      hubUrl: 'https://hub.example:8070',
      mqttUrl: 'mqtts://hub.example:8883',
    });
    assert.equal(
      formatAgentEnvironment(env),
      'SENTINEL_HUB_URL=https://hub.example:8070\n' +
        'SENTINEL_MQTT_URL=mqtts://hub.example:8883\n' +
        'SENTINEL_DEVICE_ID=cam-0042\n' +
        'SENTINEL_MQTT_USERNAME=cam-0042\n' +
        'SENTINEL_MQTT_PASSWORD=Zm9v_b-ar\n',
    );
  });

  it('quotes a value an environment file would split', () => {
    assert.equal(envValue('abc-_=/+'), 'abc-_=/+');
    assert.equal(envValue('a b'), "'a b'");
    assert.equal(envValue("it's"), "'it'\\''s'");
  });

  it("guesses the broker from the hub's host", () => {
    assert.equal(defaultMqttUrl('http://10.0.0.5:8070'), 'mqtt://10.0.0.5:1883');
    assert.equal(defaultMqttUrl('https://hub.example/base'), 'mqtts://hub.example:8883');
  });

  it('names the model of a desired state, or none', () => {
    assert.equal(desiredModel({ model: { name: 'det', version: '2.0.0' } }), 'det@2.0.0');
    assert.equal(desiredModel(null), '-');
    assert.equal(desiredModel({ model: null }), '-');
    assert.equal(formatDesired('group yard', null), 'group yard: no desired state\n');
    assert.match(
      formatDesired('group yard', {
        model: { name: 'det', version: '2.0.0' },
        previous: { name: 'det', version: '1.0.0' },
        strategy: 'pinned',
        deployment_id: null,
        seq: 3,
      }),
      /model +det@2\.0\.0\n.*previous +det@1\.0\.0\n.*strategy +pinned\n.*deployment +-\n.*seq +3/s,
    );
  });

  it('lists groups as a table', () => {
    const text = formatGroupList({
      items: [
        {
          id: 'x',
          name: 'yard',
          environment: 'production',
          labels: { site: 'north' },
          device_count: 2,
          maintenance_windows: [],
          desired_seq: 1,
          desired: { model: { name: 'det', version: '2.0.0' } },
          created_at: '2026-01-01T00:00:00Z',
          updated_at: '2026-01-01T00:00:00Z',
        },
      ],
      total: 1,
    });
    assert.equal(
      text,
      'NAME  ENVIRONMENT  DEVICES  DESIRED    LABELS\nyard  production   2        det@2.0.0  site=north\n',
    );
    assert.equal(formatGroupList({ items: [], total: 0 }), 'no groups found\n');
  });

  it('shows what a device can run in one line, and says when it is unknown', () => {
    assert.equal(
      formatCapabilities({
        ort_version: '1.30.0',
        max_opset: 26,
        execution_providers: ['cpu'],
        arch: 'arm64',
        memory_mb: 512,
        labels: ['camera:ip67', 'site:berlin'],
      }),
      'onnxruntime 1.30.0, opset <= 26, providers cpu, arm64, 512 MiB, labels camera:ip67,site:berlin',
    );
    assert.equal(formatCapabilities({ labels: [] }), 'labels -');
    assert.equal(formatCapabilities(null), 'unknown (not reported: treated as compatible)');
  });
});

describe('namedModelLine', () => {
  it("says what a named model serves, what waits, and its deployment's progress", () => {
    const slot = (model_id: string, version: string) => ({ model_id, version, loaded: true });
    assert.equal(
      namedModelLine({
        name: 'classifier',
        active_slot: 'green',
        slots: { blue: slot('c1000000-aaaa', '1.0.0'), green: slot('c2000000-bbbb', '2.0.0') },
        deployment: { deployment_id: 'dep-1', phase: 'active', reason: null },
      }),
      'serves c2000000 v2.0.0 (green), standby v1.0.0 | deployment dep-1 active',
    );
    assert.equal(
      namedModelLine({
        name: 'tracker',
        active_slot: null,
        slots: { blue: null, green: null },
        deployment: { deployment_id: 'dep-2', phase: 'failed', reason: 'hash_mismatch' },
      }),
      'serves nothing | deployment dep-2 failed (hash_mismatch)',
    );
  });
});
