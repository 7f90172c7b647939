import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type Credentials, resolvePrincipal } from './authenticate.js';
import type { Role } from './roles.js';
import { csrfTokenFor } from './sessions.js';
import { testAuthServices } from './test-services.js';

describe('authenticate: sessions by role, API keys by scope, CSRF on writes', () => {
  const auth = testAuthServices();
  const sessionOf: Record<string, string> = {};
  const none: Credentials = { method: 'GET', bearer: null, sessionId: null, csrfToken: null };
  const as = (role: Role, extra: Partial<Credentials> = {}): Credentials => ({
    ...none,
    sessionId: sessionOf[role],
    ...extra,
  });
  const status = (creds: Credentials, need: Parameters<typeof resolvePrincipal>[2]) => {
    const r = resolvePrincipal(auth, creds, need);
    return r.ok ? 200 : r.status;
  };

  before(async () => {
    for (const role of ['viewer', 'analyst', 'admin'] as const) {
      const r = await auth.users.create(`${role}@shop.example`, role, 'plum tractor quietly 42');
      assert.ok(r.ok);
      sessionOf[role] = auth.sessions.create(r.value.id, {}).id;
    }
  });

  it('refuses a request with neither cookie nor key with 401', () => {
    assert.equal(status(none, { role: 'viewer' }), 401);
    assert.equal(status({ ...none, sessionId: 'forged' }, { role: 'viewer' }), 401);
  });

  it('maps roles: viewer reads realtime, analyst also runs SQL, admin everything', () => {
    const table = (['viewer', 'analyst', 'admin'] as const).map((role) => [
      role,
      status(as(role), { role: 'viewer' }),
      status(as(role), { role: 'analyst' }),
      status(as(role), { scope: 'query' }),
      status(as(role), { role: 'admin' }),
    ]);
    assert.deepEqual(table, [
      ['viewer', 200, 403, 403, 403],
      ['analyst', 200, 200, 200, 403],
      ['admin', 200, 200, 200, 200],
    ]);
  });

  it('needs the session CSRF token on anything but GET/HEAD/OPTIONS', () => {
    const post = { method: 'POST' };
    assert.equal(status(as('analyst', post), { role: 'analyst' }), 403);
    assert.equal(
      status(as('analyst', { ...post, csrfToken: csrfTokenFor(sessionOf.viewer) }), { role: 'analyst' }),
      403,
    );
    assert.equal(
      status(as('analyst', { ...post, csrfToken: csrfTokenFor(sessionOf.analyst) }), { role: 'analyst' }),
      200,
    );
    assert.equal(status(as('analyst', { method: 'HEAD' }), { role: 'analyst' }), 200);
  });

  it('accepts API keys by scope, without a CSRF token', () => {
    const query = auth.apiKeys.create('grafana', ['query']).key;
    const admin = auth.apiKeys.create('ops', ['admin']).key;
    const post = { ...none, method: 'POST' };
    assert.equal(status({ ...post, bearer: query }, { role: 'analyst' }), 200);
    assert.equal(status({ ...post, bearer: query }, { role: 'viewer' }), 200);
    assert.equal(status({ ...post, bearer: query }, { role: 'admin' }), 403);
    assert.equal(status({ ...post, bearer: admin }, { role: 'admin' }), 200);
    assert.equal(status({ ...post, bearer: 'sp_key_nope' }, { role: 'viewer' }), 403);
  });

  it('applies a role change and a removal to open sessions at once', () => {
    const viewerSession = as('viewer');
    assert.ok(auth.users.setRole('viewer@shop.example', 'analyst').ok);
    assert.equal(status(viewerSession, { role: 'analyst' }), 200);
    assert.ok(auth.users.remove('viewer@shop.example').ok);
    assert.equal(status(viewerSession, { role: 'viewer' }), 401);
  });
});
