import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isProbe, requestLine, requestLogLevel } from './request-log.js';

describe('request log lines', () => {
  it('logs successes at debug, refusals at info, failures at error', () => {
    assert.equal(requestLogLevel(200, false), 'debug');
    assert.equal(requestLogLevel(204, false), 'debug');
    assert.equal(requestLogLevel(304, false), 'debug');
    assert.equal(requestLogLevel(400, false), 'info');
    assert.equal(requestLogLevel(401, false), 'info');
    assert.equal(requestLogLevel(404, false), 'info');
    assert.equal(requestLogLevel(500, false), 'error');
    assert.equal(requestLogLevel(507, false), 'error');
    assert.equal(requestLogLevel(200, true), 'error', 'a response cut off by an error');
  });

  it('says the method, URL, status and time (or the error) in one message', () => {
    assert.equal(
      requestLine('GET', '/api/v1/models?limit=5', 200, { ms: 12 }),
      'GET /api/v1/models?limit=5 200 in 12 ms',
    );
    assert.equal(
      requestLine('POST', '/api/v1/models', 500, { error: 'disk on fire' }),
      'POST /api/v1/models 500: disk on fire',
    );
    assert.equal(requestLine(undefined, undefined, 400, { ms: 0 }), '? ? 400 in 0 ms');
  });

  it('leaves out the probes and scrapes', () => {
    assert.equal(isProbe('/health'), true);
    assert.equal(isProbe('/metrics'), true);
    assert.equal(isProbe('/api/v1/models'), false);
    assert.equal(isProbe('/health/x'), false);
  });
});
