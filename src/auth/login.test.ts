import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { login, logout } from './login.js';
import { testAuthServices } from './test-services.js';

const PW = 'plum tractor quietly 42';
const client = { ip: '192.0.2.7', userAgent: 'curl/8' };

describe('login', () => {
  it('opens a session for the right password and audits who, from where', async () => {
    const auth = testAuthServices();
    await auth.users.create('ann@x.io', 'viewer', PW);
    const r = await login(auth, { email: 'Ann@X.io', password: PW }, client);
    assert.ok(r.ok);
    assert.ok(auth.sessions.resume(r.sessionId));
    logout(auth, r.sessionId, r.user, client);
    assert.equal(auth.sessions.resume(r.sessionId), null);
    const [out, inn] = auth.audit.list();
    assert.deepEqual(
      [inn.action, inn.actor, inn.ip, inn.userAgent],
      ['login', 'ann@x.io', '192.0.2.7', 'curl/8'],
    );
    assert.equal(out.action, 'logout');
  });

  it('answers an unknown email exactly like a wrong password, and audits both', async () => {
    const auth = testAuthServices();
    await auth.users.create('ann@x.io', 'viewer', PW);
    const wrong = await login(auth, { email: 'ann@x.io', password: 'nope nope nope' }, client);
    const unknown = await login(auth, { email: 'zed@x.io', password: PW }, client);
    assert.deepEqual(wrong, unknown);
    assert.deepEqual(wrong, { ok: false, status: 401, reason: 'wrong email or password' });
    assert.deepEqual(
      auth.audit.list().map((e) => [e.action, e.target, e.detail?.reason]),
      [
        ['login_failed', 'zed@x.io', 'unknown user'],
        ['login_failed', 'ann@x.io', 'wrong password'],
      ],
    );
  });

  it('locks the account after 5 failures, even for the right password, with a Retry-After', async () => {
    const auth = testAuthServices();
    await auth.users.create('ann@x.io', 'viewer', PW);
    for (let i = 0; i < 5; i++) {
      assert.equal(
        (await login(auth, { email: 'ann@x.io', password: `guess ${i} guess` }, client)).ok,
        false,
      );
    }
    const locked = await login(auth, { email: 'ann@x.io', password: PW }, client);
    assert.ok(!locked.ok);
    assert.equal(locked.status, 429);
    assert.ok(locked.retryAfterMs && locked.retryAfterMs > 14 * 60_000);
    assert.match(locked.reason, /try again in 15 min/);
    assert.deepEqual(
      auth.audit.list({ limit: 3 }).map((e) => e.action),
      ['login_failed', 'lockout', 'login_failed'],
    );
  });
});
