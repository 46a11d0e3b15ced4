import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { securityHeaders } from './security-headers.js';

describe('securityHeaders', () => {
  it('forbids sniffing, framing and referrers everywhere', () => {
    for (const path of ['/', '/api/v1/models', '/health', '/docs', '/docs/swagger-ui.css']) {
      const headers = securityHeaders(path, false);
      assert.equal(headers['X-Content-Type-Options'], 'nosniff');
      assert.equal(headers['X-Frame-Options'], 'DENY');
      assert.equal(headers['Referrer-Policy'], 'no-referrer');
      assert.match(headers['Content-Security-Policy']!, /frame-ancestors 'none'/);
    }
  });
  it('lets Swagger UI load its own scripts and styles, and the API nothing at all', () => {
    const docs = securityHeaders('/docs', false)['Content-Security-Policy']!;
    assert.match(docs, /script-src 'self'(;|$)/);
    assert.doesNotMatch(docs, /unsafe-eval|script-src[^;]*unsafe-inline/);
    assert.equal(
      securityHeaders('/docs-json', false)['Content-Security-Policy']!.split(';')[0],
      "default-src 'none'",
    );
    assert.match(
      securityHeaders('/api/v1/models', false)['Content-Security-Policy']!,
      /^default-src 'none'/,
    );
  });
  it('lets the console at / load its own bundle and call its hub, nothing inline', () => {
    for (const path of ['/', '/models', '/deployments/abc', '/assets/index-1.js']) {
      const csp = securityHeaders(path, false)['Content-Security-Policy']!;
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /connect-src 'self'/);
      assert.doesNotMatch(csp, /unsafe/);
    }
    assert.match(
      securityHeaders('/health', false)['Content-Security-Policy']!,
      /^default-src 'none'/,
    );
  });
  it('sends Strict-Transport-Security over TLS only', () => {
    assert.equal(securityHeaders('/health', false)['Strict-Transport-Security'], undefined);
    assert.match(securityHeaders('/health', true)['Strict-Transport-Security']!, /max-age=\d+/);
  });
});
