import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostAllowed, isJsonType } from './request-guard.js';

describe('hostAllowed', () => {
  it('takes localhost and IP literals, with or without a port', () => {
    for (const host of [
      'localhost',
      'localhost:8071',
      'LOCALHOST:8071',
      'localhost.:8071',
      '127.0.0.1',
      '127.0.0.1:8071',
      '10.1.2.3:8071',
      '[::1]:8071',
      '[::1]',
      '[fe80::1]:8071',
    ]) {
      assert.equal(hostAllowed(host), true, host);
    }
  });

  it('refuses other names (DNS rebinding) and malformed values', () => {
    for (const host of [
      'attacker.example:8071',
      'attacker.example',
      '127.0.0.1.nip.io:8071',
      'localhost.attacker.example',
      'sub.localhost:8071',
      '[attacker.example]:8071',
      '[127.0.0.1]:8071',
      '',
      ':8071',
      'a:b:c',
    ]) {
      assert.equal(hostAllowed(host), false, host);
    }
  });

  it('takes configured names, and passes a request without Host (HTTP/1.0)', () => {
    assert.equal(hostAllowed('agent:8071', ['agent']), true);
    assert.equal(hostAllowed('Agent:8071', ['agent']), true);
    assert.equal(hostAllowed('agent2:8071', ['agent']), false);
    assert.equal(hostAllowed(undefined), true);
  });
});

describe('isJsonType', () => {
  it('takes application/json with any parameters and case, nothing else', () => {
    assert.equal(isJsonType('application/json'), true);
    assert.equal(isJsonType('Application/JSON; charset=utf-8'), true);
    assert.equal(isJsonType(' application/json ;charset=utf-8'), true);
    for (const type of [
      undefined,
      '',
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonp',
      'application/json-seq',
      'text/json',
    ]) {
      assert.equal(isJsonType(type), false, String(type));
    }
  });
});
