import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './app-config.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('configuration', () => {
  it('has embedded defaults for everything', () => {
    const config = loadConfig({});
    assert.equal(config.PORT, 8070);
    assert.equal(config.MQTT_PORT, 1883);
    assert.equal(config.MQTT_WS_PORT, 8083);
    assert.equal(config.DATABASE_URL, undefined);
    assert.equal(config.REQUIRE_SIGNED_MODELS, false);
    assert.ok(config.DATA_DIR.endsWith('/data'));
  });

  it('names the variable and the reason, one line each', () => {
    assert.deepEqual(problems({ PORT: 'eighty' }), ['PORT must be a number (got "eighty")']);
    assert.deepEqual(problems({ MQTT_PORT: '70000' }), [
      'MQTT_PORT must be between 0 and 65535 (got "70000")',
    ]);
    assert.deepEqual(problems({ LOG_LEVEL: 'loud' }), [
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
    ]);
    assert.deepEqual(problems({ REQUIRE_SIGNED_MODELS: 'maybe' }), [
      'REQUIRE_SIGNED_MODELS must be true or false (got "maybe")',
    ]);
  });

  it('never echoes secrets', () => {
    const [line] = problems({ DATABASE_URL: 'mysql://user:hunter2@db/x' });
    assert.match(line, /^DATABASE_URL must be a URL with scheme postgres or postgresql$/);
    assert.doesNotMatch(line, /hunter2/);
  });

  it('requires S3 credentials only when S3 is chosen', () => {
    assert.deepEqual(problems({ S3_ENDPOINT: 'http://127.0.0.1:9000' }), [
      'S3_ACCESS_KEY is required when S3_ENDPOINT is set',
      'S3_SECRET_KEY is required when S3_ENDPOINT is set',
    ]);
    const config = loadConfig({
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_ACCESS_KEY: 'a',
      S3_SECRET_KEY: 'b',
    });
    assert.equal(config.S3_BUCKET, 'sentinel-models');
  });

  it('refuses signed-only mode without trusted keys', () => {
    assert.deepEqual(problems({ REQUIRE_SIGNED_MODELS: 'true' }), [
      'REQUIRE_SIGNED_MODELS needs TRUSTED_KEYS to be set (got "true")',
    ]);
  });

  it('refuses a TRUSTED_KEYS path that does not exist', () => {
    assert.match(problems({ TRUSTED_KEYS: '/nonexistent/keys.pem' })[0], /^TRUSTED_KEYS /);
  });

  it('refuses a short ADMIN_TOKEN without showing it', () => {
    assert.deepEqual(problems({ ADMIN_TOKEN: 'short' }), [
      'ADMIN_TOKEN must be at least 16 characters',
    ]);
  });

  it('treats empty values as unset', () => {
    assert.equal(loadConfig({ DATABASE_URL: '', S3_ENDPOINT: '' }).DATABASE_URL, undefined);
  });
});
