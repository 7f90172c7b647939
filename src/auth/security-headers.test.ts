import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { securityHeaders } from './security-headers.js';

describe('security headers', () => {
  it('gives the dashboard and its API a same-origin CSP and no framing', () => {
    for (const url of ['/', '/live', '/api/v1/me', '/api/v1/query', '/setup?token=x']) {
      const h = securityHeaders(url, false);
      assert.match(
        h['content-security-policy'],
        /default-src 'self'; script-src 'self';.*frame-ancestors 'none'/,
      );
      assert.equal(h['x-frame-options'], 'DENY');
      assert.equal(h['x-content-type-options'], 'nosniff');
      assert.equal(h['referrer-policy'], 'no-referrer');
      assert.equal(h['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
    }
    assert.match(securityHeaders('/', true)['strict-transport-security'], /max-age=\d+/);
  });

  it('leaves the endpoints other sites call without CSP or framing rules', () => {
    for (const url of [
      '/sp.js',
      '/t.gif?k=x',
      '/api/v1/events',
      '/api/v1/events?src=js',
      '/v1/batch',
      '/v1/track',
    ]) {
      assert.deepEqual(Object.keys(securityHeaders(url, false)), ['x-content-type-options'], url);
    }
    assert.ok(securityHeaders('/api/v1/eventsx', false)['content-security-policy'], 'only the exact paths');
  });
});
