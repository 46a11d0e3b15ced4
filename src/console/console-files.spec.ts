import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { consoleFile, isHubPath } from './console-files.js';

const ROOT = '/srv/console';
const FILES = new Set([
  '/srv/console/index.html',
  '/srv/console/assets/index-abc.js',
  '/srv/console/favicon.svg',
]);
const answer = (path: string) => consoleFile(ROOT, path, (f) => FILES.has(f));

describe('consoleFile', () => {
  it('serves hashed assets cached for a year and other files revalidated', () => {
    assert.deepEqual(answer('/assets/index-abc.js'), {
      file: '/srv/console/assets/index-abc.js',
      contentType: 'text/javascript; charset=utf-8',
      cacheControl: 'public, max-age=31536000, immutable',
    });
    assert.equal(answer('/favicon.svg')!.cacheControl, 'no-cache');
  });
  it('answers the console pages with index.html, never cached', () => {
    for (const path of ['/', '/models', '/deployments/6f1c', '/fleet/devices/cam-1']) {
      const a = answer(path)!;
      assert.equal(a.file, '/srv/console/index.html', path);
      assert.equal(a.cacheControl, 'no-cache');
    }
  });
  it("leaves the hub's paths, missing files and escapes to the hub (its 404)", () => {
    for (const path of [
      '/api/v1/models',
      '/api',
      '/docs',
      '/docs/x.css',
      '/docs-json',
      '/health',
      '/metrics',
    ])
      assert.equal(answer(path), null, path);
    assert.equal(answer('/assets/gone-123.js'), null);
    assert.equal(answer('/../etc/passwd.txt'), null);
    assert.equal(answer('/%2e%2e/%2e%2e/etc/passwd'), null, 'outside the root');
    assert.equal(answer('/%E0%A4%A'), null);
    assert.ok(isHubPath('/api/v1/events'));
    assert.ok(!isHubPath('/apis'));
  });
});
