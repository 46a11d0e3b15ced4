import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError } from '../errors.js';
import {
  basicAuth,
  credentialFor,
  credentialHeader,
  credentialOrigins,
  originOf,
  refusedDownload,
} from './credentials.js';
import { ModelCache } from './downloader.js';
import { cacheOptions, modelBytes, modelRef, setup } from './testing/fixtures.js';

const AUTH = 'Basic ZGV2aWNlOnNlY3JldA==';

describe('credential origins', () => {
  it('normalises origins: scheme, host and port, lower case, default port dropped', () => {
    assert.equal(originOf('https://Hub.Example:443/api/v1'), 'https://hub.example');
    assert.equal(originOf('http://hub.example:8070/'), 'http://hub.example:8070');
    assert.equal(originOf('mqtt://hub.example'), undefined);
    assert.equal(originOf('not a url'), undefined);
    assert.deepEqual(
      credentialOrigins('http://hub.example:8070', [
        'https://cdn.example/x',
        'http://hub.example:8070',
      ]),
      ['http://hub.example:8070', 'https://cdn.example'],
    );
    assert.deepEqual(credentialOrigins(undefined), []);
  });

  it('gives the credential only to a listed origin: not another scheme, port, host or user-info trick', () => {
    const credential = { authorization: AUTH, credentialOrigins: ['https://hub.example'] };
    const to = (url: string) => credentialFor(new URL(url), credential);
    assert.equal(to('https://hub.example/api/v1/models/1/artifact'), AUTH);
    assert.equal(to('https://HUB.example:443/x'), AUTH);
    for (const url of [
      'http://hub.example/x',
      'https://hub.example:8443/x',
      'https://hub.example.attacker.example/x',
      'https://hub.example@attacker.example/x',
      'https://attacker.example/?https://hub.example',
      'https://s3.amazonaws.com/bucket/model?X-Amz-Signature=abc',
    ]) {
      assert.equal(to(url), undefined, url);
    }
    assert.equal(
      credentialFor(new URL('https://hub.example/x'), { authorization: AUTH }),
      undefined,
    );
    assert.equal(credentialFor(undefined, credential), undefined);
    assert.deepEqual(
      credentialHeader(new URL('https://attacker.example/'), credential, { a: 'b' }),
      {
        a: 'b',
      },
    );
    assert.equal(basicAuth('device', 'secret'), AUTH);
    assert.equal(basicAuth('device', undefined), undefined);
  });

  it('explains a 401/403 from an origin that got no credential, and only then', () => {
    const credential = { authorization: AUTH, credentialOrigins: ['https://hub.example'] };
    const elsewhere = refusedDownload('m 1', 401, new URL('https://cdn.example/m'), credential);
    assert.match(elsewhere, /^model m 1: HTTP 401 from https:\/\/cdn\.example\/m; /);
    assert.match(
      elsewhere,
      /SENTINEL_HUB_URL, SENTINEL_CREDENTIAL_ORIGINS: https:\/\/hub\.example/,
    );
    assert.equal(
      refusedDownload('m 1', 401, new URL('https://hub.example/m'), credential),
      'model m 1: HTTP 401 from https://hub.example/m',
    );
    assert.equal(
      refusedDownload('m 1', 404, new URL('https://cdn.example/m'), credential),
      'model m 1: HTTP 404 from https://cdn.example/m',
    );
  });
});

describe('ModelCache and the device credential (real server)', () => {
  it('downloads from another origin without the credential; a 401 there names the rule', async (t) => {
    const { dir, server } = await setup(t);
    const body = modelBytes(64 * 1024);
    const model = modelRef(body, server.serve('/open', body));
    const port = new URL(model.url).port;
    // The same server under another name is another origin.
    const options = cacheOptions(dir, { credentialOrigins: [`http://localhost:${port}`] });
    await new ModelCache(options).fetch(model);
    assert.equal(server.requests.at(-1)!.headers.authorization, undefined);

    const closed = modelBytes(1024);
    const refused = modelRef(closed, server.serve('/closed', closed, { failWith: [401] }));
    await assert.rejects(new ModelCache(options).fetch(refused), (error: unknown) => {
      assert.ok(error instanceof AgentError);
      assert.equal(error.reason, 'download_failed');
      assert.match(error.message, /only to the hub it was configured with/);
      return true;
    });
    assert.equal(server.requests.at(-1)!.headers.authorization, undefined);
  });
});
