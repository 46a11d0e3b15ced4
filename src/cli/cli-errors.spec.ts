import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CliError,
  EXIT,
  HubUnreachableError,
  UsageError,
  describeNetworkError,
  exitCodeOf,
  formatErrorLine,
  hubApiError,
} from './cli-errors.js';

describe('hubApiError', () => {
  it('uses the hub message and error code', () => {
    const err = hubApiError(
      409,
      JSON.stringify({
        statusCode: 409,
        error: 'MODEL_VERSION_EXISTS',
        message: 'resnet@1.0.0 exists',
      }),
    );
    assert.equal(err.message, 'resnet@1.0.0 exists (HTTP 409 MODEL_VERSION_EXISTS)');
    assert.equal(err.exitCode, EXIT.FAILURE);
    assert.equal(err.code, 'MODEL_VERSION_EXISTS');
  });

  it('joins validation message lists', () => {
    const err = hubApiError(
      400,
      JSON.stringify({ error: 'VALIDATION', message: ['a is bad', 'b is bad'] }),
    );
    assert.equal(err.message, 'a is bad; b is bad (HTTP 400 VALIDATION)');
  });

  it('falls back to the HTTP status text for bodies without a usable message', () => {
    assert.equal(hubApiError(502, '').message, 'Bad Gateway (HTTP 502 BAD_GATEWAY)');
    assert.equal(
      hubApiError(500, '{}').message,
      'Internal Server Error (HTTP 500 INTERNAL_SERVER_ERROR)',
    );
    assert.equal(hubApiError(599, 'null').message, 'unexpected response (HTTP 599 UNKNOWN)');
  });

  it('flattens a non-JSON body onto one line and truncates it', () => {
    assert.equal(
      hubApiError(503, '<html>\n  <b>down</b>\n</html>').message,
      '<html> <b>down</b> </html> (HTTP 503 SERVICE_UNAVAILABLE)',
    );
    const long = hubApiError(500, 'x'.repeat(2000));
    assert.ok(long.message.length < 600);
  });

  it('uses the auth exit code for 401 and 403 only', () => {
    assert.equal(hubApiError(401, '').exitCode, EXIT.AUTH);
    assert.equal(hubApiError(403, '').exitCode, EXIT.AUTH);
    assert.equal(hubApiError(404, '').exitCode, EXIT.FAILURE);
  });
});

describe('describeNetworkError', () => {
  it('describes dual-stack AggregateErrors whose own message is empty', () => {
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    const aggregate = Object.assign(
      new AggregateError([refused('::1:8070'), refused('127.0.0.1:8070')], ''),
      {
        code: 'ECONNREFUSED',
      },
    );
    assert.equal(
      describeNetworkError(aggregate),
      'connect ECONNREFUSED ::1:8070, connect ECONNREFUSED 127.0.0.1:8070',
    );
  });

  it('falls back to the error code', () => {
    assert.equal(
      describeNetworkError(Object.assign(new Error(''), { code: 'ECONNRESET' })),
      'ECONNRESET',
    );
  });
});

describe('formatErrorLine', () => {
  it('prints exactly one line prefixed with the program name', () => {
    assert.equal(
      formatErrorLine(new UsageError('--stage "x" is bad')),
      'sentinel: --stage "x" is bad\n',
    );
    assert.equal(
      formatErrorLine(new HubUnreachableError('http://h:1', 'connect ECONNREFUSED')),
      'sentinel: cannot reach hub at http://h:1: connect ECONNREFUSED\n',
    );
    assert.equal(formatErrorLine(new CliError('two\nlines', 1)), 'sentinel: two lines\n');
    assert.equal(formatErrorLine(new TypeError('boom')), 'sentinel: unexpected error: boom\n');
  });
});

describe('exitCodeOf', () => {
  it('uses the CliError exit code and 1 for anything else', () => {
    assert.equal(exitCodeOf(new UsageError('x')), EXIT.USAGE);
    assert.equal(exitCodeOf(new HubUnreachableError('u', 'r')), EXIT.UNREACHABLE);
    assert.equal(exitCodeOf(new Error('x')), EXIT.FAILURE);
  });
});
