import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { CLI, type ServerProcess, startServer } from '../testing/server-process.js';

const PASSWORD = 'plum tractor quietly 42';

/** A signed-in browser: the session cookie and the CSRF token it was given. */
interface Browser {
  cookie: string;
  csrf: string;
}

/** `storepulse users add` with the password on stdin, as a script would run it. */
function addUser(dataDir: string, email: string, role: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, '-d', dataDir, 'users', 'add', email, '--role', role, '--password-stdin'],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    );
    child.stdin.end(`${PASSWORD}\n`);
    child.on('close', (code) => resolve(code ?? -1));
  });
}

const setupTokenOf = (server: ServerProcess) => /setup\?token=([\w-]+)/.exec(server.output())?.[1] ?? '';

describe('users, sessions and access control over HTTP', () => {
  let server: ServerProcess;
  let admin: Browser;
  before(async () => {
    server = await startServer();
  });
  after(() => server?.cleanup());

  const call = (path: string, init: RequestInit & { as?: Browser; csrf?: boolean; key?: string } = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (init.as) headers.cookie = init.as.cookie;
    if (init.as && init.csrf !== false) headers['x-csrf-token'] = init.as.csrf;
    if (init.key) headers.authorization = `Bearer ${init.key}`;
    return fetch(`${server.url}${path}`, { ...init, headers: { ...headers, ...(init.headers as object) } });
  };
  const post = (path: string, body: unknown, init: Parameters<typeof call>[1] = {}) =>
    call(path, { ...init, method: 'POST', body: JSON.stringify(body) });
  const signIn = async (email: string, password = PASSWORD): Promise<Browser> => {
    const res = await post('/api/v1/login', { email, password });
    assert.equal(res.status, 200, await res.clone().text());
    const cookie = res.headers.getSetCookie()[0].split(';')[0];
    return { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
  };
  const auditActions = async () => {
    const res = await call('/api/v1/audit?limit=50', { key: server.apiKey });
    const { entries } = (await res.json()) as { entries: { action: string; target: string | null }[] };
    return entries;
  };

  it('refuses unauthenticated requests to the APIs with 401', async () => {
    assert.equal((await post('/api/v1/query', { sql: 'select 1' })).status, 401);
    assert.equal((await call('/api/v1/me')).status, 401);
    assert.equal((await call('/api/v1/audit')).status, 401);
    assert.equal((await call('/api/v1/api-keys')).status, 401);
    assert.equal((await call('/api/v1/sites/default/realtime')).status, 401);
    assert.equal((await call('/api/v1/sites/default/realtime/stream')).status, 401);
  });

  it('creates the first admin with the printed setup link, once', async () => {
    const token = setupTokenOf(server);
    assert.ok(token, `the server printed a setup link:\n${server.output()}`);
    const weak = await post('/api/v1/setup', {
      token,
      email: 'owner@shop.example',
      password: 'password1234',
    });
    assert.equal(weak.status, 400);
    assert.match(((await weak.json()) as { error: string }).error, /too common/);

    const res = await post('/api/v1/setup', { token, email: 'owner@shop.example', password: PASSWORD });
    assert.equal(res.status, 201);
    const body = (await res.json()) as { user: { role: string }; csrfToken: string };
    assert.equal(body.user.role, 'admin');
    admin = { cookie: res.headers.getSetCookie()[0].split(';')[0], csrf: body.csrfToken };

    const again = await post('/api/v1/setup', { token, email: 'mallory@evil.example', password: PASSWORD });
    assert.equal(again.status, 403);
    assert.match(((await again.json()) as { error: string }).error, /already used/);
  });

  it('sets an HttpOnly, SameSite=Strict session cookie (not Secure over plain HTTP)', async () => {
    const res = await post('/api/v1/login', { email: 'owner@shop.example', password: PASSWORD });
    assert.equal(res.status, 200);
    const cookie = res.headers.getSetCookie()[0];
    assert.match(cookie, /^sp_session=[\w-]{43}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
  });

  it('answers /me with the user, permissions and CSRF token; logout ends the session', async () => {
    const browser = await signIn('owner@shop.example');
    const me = await call('/api/v1/me', { as: browser, csrf: false });
    assert.equal(me.status, 200);
    const body = (await me.json()) as { user: { email: string }; permissions: object; csrfToken: string };
    assert.equal(body.user.email, 'owner@shop.example');
    assert.deepEqual(body.permissions, { realtime: true, query: true, admin: true });
    assert.equal(body.csrfToken, browser.csrf);

    assert.equal((await post('/api/v1/logout', {}, { as: browser, csrf: false })).status, 403);
    const out = await post('/api/v1/logout', {}, { as: browser });
    assert.equal(out.status, 204);
    assert.match(out.headers.getSetCookie()[0], /^sp_session=;.*Expires=Thu, 01 Jan 1970/);
    assert.equal((await call('/api/v1/me', { as: browser })).status, 401);
  });

  it('refuses a wrong password with 401 and records it in the audit log', async () => {
    const res = await post('/api/v1/login', { email: 'owner@shop.example', password: 'not the password' });
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: 'wrong email or password' });
    const [latest] = await auditActions();
    assert.deepEqual([latest.action, latest.target], ['login_failed', 'owner@shop.example']);
  });

  it('locks an account after 5 failures and answers 429 with Retry-After', async () => {
    const email = 'owner@shop.example';
    // One failure is already recorded by the test above.
    for (let i = 0; i < 4; i++) {
      assert.equal((await post('/api/v1/login', { email, password: `guess number ${i}` })).status, 401);
    }
    const locked = await post('/api/v1/login', { email, password: PASSWORD });
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 800, 'about 15 minutes');
    assert.ok((await auditActions()).some((e) => e.action === 'lockout' && e.target === email));
    // Sessions opened before the lockout keep working.
    assert.equal((await call('/api/v1/me', { as: admin })).status, 200);
  });

  it('needs the X-CSRF-Token header on a POST made with the session cookie, not with an API key', async () => {
    const sql = { sql: 'select 42 as answer' };
    const noToken = await post('/api/v1/query', sql, { as: admin, csrf: false });
    assert.equal(noToken.status, 403);
    assert.match(((await noToken.json()) as { error: string }).error, /X-CSRF-Token/);
    assert.equal(
      (await post('/api/v1/query', sql, { as: admin, headers: { 'x-csrf-token': 'forged' } })).status,
      403,
    );
    const ok = await post('/api/v1/query', sql, { as: admin });
    assert.equal(ok.status, 200);
    assert.deepEqual(((await ok.json()) as { rows: unknown[] }).rows, [{ answer: 42 }]);
    assert.equal((await post('/api/v1/query', sql, { key: server.apiKey })).status, 200);
  });

  it('lets a viewer read realtime (JSON and SSE) but not run SQL or read the audit log', async () => {
    assert.equal(await addUser(server.dataDir, 'viewer@shop.example', 'viewer'), 0);
    const viewer = await signIn('viewer@shop.example');
    assert.equal((await call('/api/v1/sites/default/realtime', { as: viewer })).status, 200);
    assert.equal((await post('/api/v1/query', { sql: 'select 1' }, { as: viewer })).status, 403);
    assert.equal((await call('/api/v1/audit', { as: viewer })).status, 403);

    const controller = new AbortController();
    const stream = await call('/api/v1/sites/default/realtime/stream', {
      as: viewer,
      signal: controller.signal,
    });
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const first = await (stream.body as ReadableStream<Uint8Array>).getReader().read();
    assert.match(new TextDecoder().decode(first.value), /^id: 1\nevent: snapshot\n/);
    controller.abort();
  });

  it('lets an admin create and revoke API keys; the secret is shown once', async () => {
    const created = await post('/api/v1/api-keys', { name: 'grafana', scopes: ['query'] }, { as: admin });
    assert.equal(created.status, 201);
    const { key, apiKey } = (await created.json()) as { key: string; apiKey: { id: string } };
    assert.match(key, /^sp_key_/);
    assert.equal((await post('/api/v1/query', { sql: 'select 1' }, { key })).status, 200);
    const listed = await (await call('/api/v1/api-keys', { as: admin })).text();
    assert.ok(listed.includes(apiKey.id) && !listed.includes(key), 'listed without its secret');

    assert.equal((await call(`/api/v1/api-keys/${apiKey.id}`, { method: 'DELETE', as: admin })).status, 204);
    assert.equal((await post('/api/v1/query', { sql: 'select 1' }, { key })).status, 403);
    assert.equal((await call(`/api/v1/api-keys/${apiKey.id}`, { method: 'DELETE', as: admin })).status, 404);
    const actions = (await auditActions()).map((e) => e.action);
    for (const a of ['api_key_created', 'api_key_revoked', 'user_created', 'setup_used', 'logout', 'login']) {
      assert.ok(actions.includes(a), `audit has ${a}`);
    }
  });

  it('sends security headers on every response but keeps the collector endpoints open to other origins', async () => {
    for (const path of ['/api/v1/me', '/healthz', '/no-such-page']) {
      const res = await call(path);
      assert.match(
        res.headers.get('content-security-policy') ?? '',
        /^default-src 'self'; script-src 'self'/,
        path,
      );
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('strict-transport-security'), null, 'no HSTS over plain HTTP');
    }
    const tracker = await fetch(`${server.url}/sp.js`);
    assert.equal(tracker.headers.get('content-security-policy'), null);
    const events = await fetch(`${server.url}/api/v1/events`, {
      method: 'POST',
      headers: { origin: 'https://shop.example', authorization: `Bearer ${server.writeKey}` },
      body: JSON.stringify({ type: 'page_view', url: 'https://shop.example/' }),
    });
    assert.equal(events.status, 200);
    assert.equal(events.headers.get('content-security-policy'), null);
    assert.equal(events.headers.get('x-frame-options'), null);
    assert.equal(events.headers.get('access-control-allow-origin'), 'https://shop.example');
  });

  it('refuses a login form posted from another origin', async () => {
    const res = await post(
      '/api/v1/login',
      { email: 'viewer@shop.example', password: PASSWORD },
      { headers: { origin: 'https://evil.example' } },
    );
    assert.equal(res.status, 403);
  });
});

describe('behind TLS (auth.secureCookies) and with a small per-IP login budget', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer({
      env: { STOREPULSE_AUTH__SECURE_COOKIES: 'true', STOREPULSE_AUTH__LOGIN_IP_BURST: '3' },
    });
  });
  after(() => server?.cleanup());

  it('marks the cookie Secure and sends HSTS', async () => {
    const res = await fetch(`${server.url}/api/v1/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: setupTokenOf(server), email: 'owner@shop.example', password: PASSWORD }),
    });
    assert.equal(res.status, 201);
    assert.match(res.headers.getSetCookie()[0], /; HttpOnly; Secure; SameSite=Strict$/);
    assert.match(res.headers.get('strict-transport-security') ?? '', /^max-age=\d+/);
  });

  it('answers 429 once an IP has used its login attempts, whatever the account', async () => {
    const login = (email: string) =>
      fetch(`${server.url}/api/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'wrong wrong wrong' }),
      });
    for (const email of ['a@x.io', 'b@x.io', 'c@x.io']) assert.equal((await login(email)).status, 401);
    const limited = await login('d@x.io');
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.match(((await limited.json()) as { error: string }).error, /from this address/);
  });
});
