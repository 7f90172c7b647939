import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Fastify from 'fastify';
import { registerWebRoutes } from './routes-web.js';

describe('dashboard static files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'storepulse-web-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(join(dir, 'assets', 'index-abc123.css'), 'body{}');
  const app = Fastify();
  registerWebRoutes(app, dir);
  after(() => {
    void app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every page path with the SPA shell, revalidated on each visit', async () => {
    for (const url of ['/', '/live', '/ops', '/login', '/setup?token=abc']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.match(res.body, /id="root"/);
    }
  });

  it('serves hashed assets with their type, cached for good', async () => {
    const js = await app.inject({ url: '/assets/index-abc123.js' });
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.match(String(js.headers['cache-control']), /immutable/);
    const css = await app.inject({ url: '/assets/index-abc123.css' });
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
  });

  it('does not fall back to the shell for APIs, unknown assets or paths outside the build', async () => {
    assert.equal((await app.inject({ url: '/api/v1/nothing' })).statusCode, 404);
    assert.equal((await app.inject({ url: '/assets/missing.js' })).statusCode, 404);
    assert.equal((await app.inject({ url: '/assets/..%2f..%2fetc%2fpasswd' })).statusCode, 404);
    assert.equal((await app.inject({ url: '/settings' })).statusCode, 404);
  });

  it('says how to build the dashboard when it is missing', async () => {
    const bare = Fastify();
    registerWebRoutes(bare, join(dir, 'nope'));
    const res = await bare.inject({ url: '/live' });
    assert.equal(res.statusCode, 503);
    assert.match(res.body, /npm run build:web/);
    await bare.close();
  });
});
