import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completeSetup, SETUP_TOKEN_TTL_MS } from './setup.js';
import { testAuthServices } from './test-services.js';

const client = { ip: '127.0.0.1', userAgent: 'test' };
const PW = 'plum tractor quietly 42';

describe('setup link', () => {
  it('creates the first admin once and signs them in; a second use is refused', async () => {
    const auth = testAuthServices();
    const { token } = auth.setup.issue();
    const first = await completeSetup(auth, { token, email: 'owner@shop.example', password: PW }, client);
    assert.ok(first.ok);
    assert.equal(first.user.role, 'admin');
    assert.ok(auth.sessions.resume(first.sessionId));
    const again = await completeSetup(auth, { token, email: 'mallory@x.io', password: PW }, client);
    assert.deepEqual([again.ok, !again.ok && again.status], [false, 403]);
    assert.deepEqual(
      auth.users.list().map((u) => u.email),
      ['owner@shop.example'],
    );
    assert.deepEqual(
      auth.audit.list().map((e) => e.action),
      ['login', 'user_created', 'setup_used'],
    );
  });

  it('keeps the link usable after a refused weak password', async () => {
    const auth = testAuthServices();
    const { token } = auth.setup.issue();
    const weak = await completeSetup(auth, { token, email: 'owner@x.io', password: 'password1234' }, client);
    assert.deepEqual([weak.ok, !weak.ok && weak.status], [false, 400]);
    assert.ok((await completeSetup(auth, { token, email: 'owner@x.io', password: PW }, client)).ok);
  });

  it('expires after 24 h, and a new link retires the old one', () => {
    const auth = testAuthServices();
    const t0 = 1_000_000;
    const old = auth.setup.issue(t0);
    assert.equal(auth.setup.valid(old.token, t0 + SETUP_TOKEN_TTL_MS - 1), true);
    assert.equal(auth.setup.valid(old.token, t0 + SETUP_TOKEN_TTL_MS), false);
    const fresh = auth.setup.issue(t0 + 1);
    assert.equal(auth.setup.valid(old.token, t0 + 2), false);
    assert.equal(auth.setup.valid(fresh.token, t0 + 2), true);
    assert.equal(auth.setup.consume(fresh.token, t0 + 3), true);
    assert.equal(auth.setup.consume(fresh.token, t0 + 4), false);
  });
});
