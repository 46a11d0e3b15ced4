import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadAgentConfig, parseApiListen, settingsHelp, SETTINGS } from './config.js';

const base = { SENTINEL_DEVICE_ID: 'cam-1', SENTINEL_GROUP: 'lobby' };

describe('loadAgentConfig', () => {
  it('applies the defaults', () => {
    const config = loadAgentConfig(base);
    assert.equal(config.mqttUrl, 'mqtt://127.0.0.1:1883');
    assert.equal(config.mqttUsername, 'cam-1');
    assert.equal(config.telemetryIntervalS, 10);
    assert.deepEqual(config.api, { kind: 'tcp', host: '127.0.0.1', port: 8071 });
    assert.equal(config.requireSigned, false);
    assert.deepEqual(config.credentialOrigins, []);
    assert.deepEqual(config.apiHosts, []);
    assert.equal(config.health.maxInputBytes, 64 * 1024 * 1024);
    assert.deepEqual(config.labels, []);
    assert.equal(config.memoryMb, undefined);
  });

  it('reads the labels (once each) and the memory limit', () => {
    const config = loadAgentConfig({
      ...base,
      SENTINEL_LABELS: 'camera:ip67, site:berlin,camera:ip67',
      SENTINEL_MEMORY_MB: '512',
    });
    assert.deepEqual(config.labels, ['camera:ip67', 'site:berlin']);
    assert.equal(config.memoryMb, 512);
  });

  it('reads a list of broker URLs (hubs of a cluster)', () => {
    const config = loadAgentConfig({
      ...base,
      SENTINEL_MQTT_URL: 'mqtt://hub-a:1883, mqtt://hub-b:1883',
    });
    assert.equal(config.mqttUrl, 'mqtt://hub-a:1883');
    assert.deepEqual(config.mqttUrls, ['mqtt://hub-a:1883', 'mqtt://hub-b:1883']);
    assert.deepEqual(loadAgentConfig(base).mqttUrls, ['mqtt://127.0.0.1:1883']);
  });

  it('reads the credential origins, API host names and input budget', () => {
    const config = loadAgentConfig({
      ...base,
      SENTINEL_CREDENTIAL_ORIGINS: 'https://Hub.Example:443/api, http://10.0.0.5:8070',
      SENTINEL_API_HOSTS: 'Agent, camera.local',
      SENTINEL_MAX_INPUT_BYTES: '1048576',
    });
    assert.deepEqual(config.credentialOrigins, ['https://hub.example', 'http://10.0.0.5:8070']);
    assert.deepEqual(config.apiHosts, ['agent', 'camera.local']);
    assert.equal(config.health.maxInputBytes, 1048576);
  });

  it('reads a YAML file under the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
    const file = join(dir, 'agent.yaml');
    writeFileSync(
      file,
      'device_id: cam-9\ngroup: yard\ntelemetry_interval_s: 2\napi: unix:/tmp/a.sock\n',
    );
    const config = loadAgentConfig({ SENTINEL_TELEMETRY_INTERVAL_S: '5' }, file);
    assert.equal(config.deviceId, 'cam-9');
    assert.equal(config.telemetryIntervalS, 5);
    assert.deepEqual(config.api, { kind: 'unix', path: '/tmp/a.sock' });
  });

  const refusals: [Record<string, string>, RegExp][] = [
    [{ SENTINEL_GROUP: 'x' }, /^SENTINEL_DEVICE_ID is required$/],
    [
      { ...base, SENTINEL_DEVICE_ID: 'Cam/1' },
      /^SENTINEL_DEVICE_ID must match .* \(got "Cam\/1"\)$/,
    ],
    [
      { ...base, SENTINEL_TELEMETRY_INTERVAL_S: 'soon' },
      /^SENTINEL_TELEMETRY_INTERVAL_S must be a number/,
    ],
    [{ ...base, SENTINEL_MQTT_URL: 'ftp://x' }, /^SENTINEL_MQTT_URL must be a URL/],
    [
      { ...base, SENTINEL_MQTT_URL: 'mqtt://hub-a:1883,ftp://x' },
      /^SENTINEL_MQTT_URL must be a URL/,
    ],
    [
      { ...base, SENTINEL_MQTT_URL: 'mqtt://hub-a:1883,mqtts://hub-b:8883' },
      /^SENTINEL_MQTT_URL all URLs of the list must have the same scheme/,
    ],
    [
      { ...base, SENTINEL_REQUIRE_SIGNED: 'true' },
      /^SENTINEL_REQUIRE_SIGNED=true needs SENTINEL_TRUSTED_KEYS$/,
    ],
    [
      {
        ...base,
        SENTINEL_TRUSTED_KEYS: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
      },
      /^SENTINEL_TRUSTED_KEYS: /,
    ],
    [{ SENTINEL_DEVICE_ID: 'cam-1' }, /SENTINEL_HUB_URL .* or SENTINEL_GROUP/],
    [{ ...base, SENTINEL_API: 'nowhere' }, /^SENTINEL_API must be HOST:PORT/],
    [
      { ...base, SENTINEL_TLS_CERT_FILE: '/etc/agent.crt' },
      /^SENTINEL_TLS_CERT_FILE needs SENTINEL_TLS_KEY_FILE$/,
    ],
    [
      { ...base, SENTINEL_TLS_CA_FILE: '/nonexistent/ca.pem' },
      /^SENTINEL_TLS_CA_FILE \/nonexistent\/ca.pem cannot be read \(ENOENT\)$/,
    ],
    [
      { ...base, SENTINEL_CREDENTIAL_ORIGINS: 'https://hub.example,ftp://files' },
      /^SENTINEL_CREDENTIAL_ORIGINS must be http\(s\) URLs/,
    ],
    [{ ...base, SENTINEL_API_HOSTS: 'agent,-bad-' }, /^SENTINEL_API_HOSTS must be host names/],
    [{ ...base, SENTINEL_MAX_INPUT_BYTES: '0' }, /^SENTINEL_MAX_INPUT_BYTES must be between 1/],
    [{ ...base, SENTINEL_LABELS: 'camera ip67' }, /^SENTINEL_LABELS must be labels/],
    [{ ...base, SENTINEL_MEMORY_MB: 'lots' }, /^SENTINEL_MEMORY_MB must be a number/],
  ];
  for (const [env, pattern] of refusals) {
    it(`refuses ${JSON.stringify(env)} with one line`, () => {
      assert.throws(
        () => loadAgentConfig(env),
        (error: Error) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, pattern);
          assert.doesNotMatch(error.message, /\n/);
          return true;
        },
      );
    });
  }

  it('never echoes the password', () => {
    assert.throws(
      () =>
        loadAgentConfig({ ...base, SENTINEL_MQTT_PASSWORD: 'hunter2', SENTINEL_ERROR_BURST: '-1' }),
      (error: Error) => !error.message.includes('hunter2'),
    );
  });

  it('refuses a CA file that holds no certificate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
    const file = join(dir, 'ca.pem');
    writeFileSync(file, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    assert.throws(
      () => loadAgentConfig({ ...base, SENTINEL_TLS_CA_FILE: file }),
      /^ConfigError: SENTINEL_TLS_CA_FILE .* is not PEM certificates: /,
    );
  });

  it('refuses an unknown key in the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ device_id: 'cam-1', group: 'g', colour: 'blue' }));
    assert.throws(() => loadAgentConfig({}, file), /unknown setting "colour"/);
  });
});

describe('parseApiListen and help', () => {
  it('parses the listen forms', () => {
    assert.deepEqual(parseApiListen('off'), { kind: 'off' });
    assert.deepEqual(parseApiListen('[::1]:0'), { kind: 'tcp', host: '::1', port: 0 });
    assert.equal(parseApiListen('host:99999'), undefined);
  });

  it('documents every setting', () => {
    const help = settingsHelp();
    for (const [env, key] of SETTINGS) {
      assert.ok(help.includes(env) && help.includes(key), env);
    }
  });
});
