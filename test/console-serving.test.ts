// The hub serves the web console's build at /: its files with caching fit for hashed assets, its page
// paths as index.html, and the hub's own paths untouched; without a build, / says how to make one.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CONSOLE_ROOT, consoleMiddleware } from '../src/console/console-static.js';
import { startHub, type InProcessHub } from './support/hub.js';

describe('the console served by the hub', () => {
  let hub: InProcessHub;
  before(async () => {
    hub = await startHub();
  });
  after(async () => {
    await hub?.stop();
  });

  it('answers / and the page paths with index.html, revalidated', async () => {
    for (const path of [
      '/',
      '/models',
      '/deployments/6f1c0000-0000-4000-8000-000000000000',
      '/fleet/devices/cam-1',
    ]) {
      const response = await fetch(hub.url + path);
      const html = await response.text();
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type')!, /^text\/html/);
      assert.equal(response.headers.get('cache-control'), 'no-cache');
      assert.match(html, /<div id="app"><\/div>/);
      assert.match(
        response.headers.get('content-security-policy')!,
        /script-src 'self'; style-src 'self'/,
      );
    }
  });

  it('serves the hashed assets cached for a year, and a missing one as a 404', async () => {
    const assets = readdirSync(`${CONSOLE_ROOT}/assets`);
    const script = assets.find((f) => f.endsWith('.js'))!;
    const response = await fetch(`${hub.url}/assets/${script}`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^text\/javascript/);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.ok((await response.text()).length > 1000);
    assert.equal((await fetch(`${hub.url}/assets/index-gone.js`)).status, 404);
    const head = await fetch(`${hub.url}/`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  it("leaves the hub's paths alone", async () => {
    const api = await fetch(`${hub.url}/api/v1/models`);
    assert.equal(api.status, 401);
    assert.match(api.headers.get('content-security-policy')!, /^default-src 'none'/);
    const unknown = await fetch(`${hub.url}/api/v1/nothing-here`);
    assert.equal(unknown.status, 404);
    assert.match(unknown.headers.get('content-type')!, /json/);
    assert.equal((await fetch(`${hub.url}/health`)).status, 200);
    assert.match(await (await fetch(`${hub.url}/docs`)).text(), /swagger/i);
  });

  it('says how to build the console when there is no build (a 404, not a 500)', async () => {
    const middleware = consoleMiddleware('/nonexistent/console-build');
    const server = createServer((req, res) =>
      middleware(req, res, () => {
        res.statusCode = 418;
        res.end();
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const response = await fetch(`${url}/deployments`);
      assert.equal(response.status, 404);
      assert.match(await response.text(), /npm run build/);
      assert.equal(
        (await fetch(`${url}/api/v1/models`)).status,
        418,
        'the hub route, not the console',
      );
    } finally {
      server.close();
    }
  });
});
