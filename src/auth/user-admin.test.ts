import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from './authenticate.js';
import type { AuthServices } from './services.js';
import { testAuthServices } from './test-services.js';
import { type AdminResult, addUser, type Caller, changeUser, removeUser } from './user-admin.js';
import type { User } from './users.js';

const PW = 'plum tractor quietly 42';
const client = { ip: '203.0.113.7', userAgent: 'test' };

const value = <T>(r: AdminResult<T>): T => {
  if (!r.ok) assert.fail(`refused (${r.status}): ${r.reason}`);
  return r.value;
};
const refusal = (r: AdminResult<unknown>) => (r.ok ? 'accepted' : [r.status, r.reason]);

/** An admin signed in to the dashboard, and the auth services they act on. */
async function signedInAdmin(): Promise<{ auth: AuthServices; admin: User; as: Caller }> {
  const auth = testAuthServices();
  const created = await auth.users.create('boss@shop.example', 'admin', PW);
  assert.ok(created.ok);
  const admin = created.value;
  const { id, session } = auth.sessions.create(admin.id, client);
  const principal: Principal = { kind: 'session', user: admin, session, sessionId: id };
  return { auth, admin, as: { principal, client } };
}

const latestAudit = (auth: AuthServices) => {
  const [e] = auth.audit.list({ limit: 1 });
  return { action: e.action, actor: e.actor, target: e.target, ip: e.ip, detail: e.detail };
};

describe('managing users', () => {
  it('adds, changes and removes a user, recording who did each and from where', async () => {
    const { auth, as } = await signedInAdmin();
    const ann = value(await addUser(auth, as, { email: 'Ann@Shop.Example', role: 'viewer', password: PW }));
    assert.equal(ann.email, 'ann@shop.example');
    assert.deepEqual(latestAudit(auth), {
      action: 'user_created',
      actor: 'boss@shop.example',
      target: 'ann@shop.example',
      ip: '203.0.113.7',
      detail: { role: 'viewer' },
    });

    assert.equal(value(await changeUser(auth, as, ann.id, { role: 'analyst' })).role, 'analyst');
    assert.deepEqual(latestAudit(auth).detail, { from: 'viewer', to: 'analyst' });

    const annSession = auth.sessions.create(ann.id, {});
    value(await changeUser(auth, as, ann.id, { password: 'a brand new passphrase' }));
    assert.equal(latestAudit(auth).action, 'user_password_set');
    assert.equal(auth.sessions.resume(annSession.id), null, 'a reset password signs the user out');

    const again = auth.sessions.create(ann.id, {});
    assert.equal(value(removeUser(auth, as, ann.id)).email, 'ann@shop.example');
    assert.equal(latestAudit(auth).action, 'user_removed');
    assert.equal(auth.users.get(ann.id), null);
    assert.equal(auth.sessions.resume(again.id), null, 'a removed user is signed out');
  });

  it('refuses a taken email with 409 and a weak password with 400, naming the rule', async () => {
    const { auth, as } = await signedInAdmin();
    assert.deepEqual(
      refusal(await addUser(auth, as, { email: 'boss@shop.example', role: 'viewer', password: PW })),
      [409, 'a user boss@shop.example already exists'],
    );
    const weak = refusal(
      await addUser(auth, as, { email: 'new@shop.example', role: 'viewer', password: 'short' }),
    );
    assert.equal(weak[0], 400);
    assert.match(String(weak[1]), /at least 12 characters/);
    assert.equal(auth.users.count(), 1);
  });

  it('checks the whole change first: a weak password leaves the role as it was', async () => {
    const { auth, as } = await signedInAdmin();
    const ann = value(await addUser(auth, as, { email: 'ann@shop.example', role: 'viewer', password: PW }));
    const before = auth.audit.list().length;
    const r = await changeUser(auth, as, ann.id, { role: 'admin', password: 'password1234' });
    assert.equal(refusal(r)[0], 400);
    assert.equal(auth.users.get(ann.id)?.role, 'viewer');
    assert.equal(auth.audit.list().length, before, 'nothing recorded for a refused change');
    assert.deepEqual(refusal(await changeUser(auth, as, ann.id, {})), [
      400,
      'send "role", "password" or both',
    ]);
  });

  it('does not let an admin demote or remove themselves', async () => {
    const { auth, admin, as } = await signedInAdmin();
    value(await addUser(auth, as, { email: 'second@shop.example', role: 'admin', password: PW }));
    assert.deepEqual(refusal(await changeUser(auth, as, admin.id, { role: 'viewer' })), [
      409,
      'you cannot change your own role; another admin can',
    ]);
    assert.deepEqual(refusal(removeUser(auth, as, admin.id)), [
      409,
      'you cannot remove your own account; another admin can',
    ]);
    assert.equal(auth.users.get(admin.id)?.role, 'admin');
    // Naming your current role is no change, so it is allowed.
    value(await changeUser(auth, as, admin.id, { role: 'admin' }));
  });

  it('keeps the last admin, whoever asks (an admin API key has no "self")', async () => {
    const { auth, admin } = await signedInAdmin();
    const { info } = auth.apiKeys.create('automation', ['admin']);
    const byKey: Caller = { principal: { kind: 'api-key', key: info }, client };
    assert.deepEqual(refusal(await changeUser(auth, byKey, admin.id, { role: 'analyst' })), [
      409,
      'boss@shop.example is the only admin; make another user admin first',
    ]);
    assert.equal(refusal(removeUser(auth, byKey, admin.id))[0], 409);

    const other = value(
      await addUser(auth, byKey, { email: 'other@shop.example', role: 'admin', password: PW }),
    );
    assert.equal(latestAudit(auth).actor, `api-key:${info.id}`);
    value(removeUser(auth, byKey, admin.id));
    assert.equal(refusal(removeUser(auth, byKey, other.id))[0], 409);
  });

  it('keeps the session that reset its own password and signs out the others', async () => {
    const { auth, admin, as } = await signedInAdmin();
    const otherBrowser = auth.sessions.create(admin.id, {});
    value(await changeUser(auth, as, admin.id, { password: 'my own new passphrase' }));
    assert.ok(as.principal.kind === 'session' && auth.sessions.resume(as.principal.sessionId));
    assert.equal(auth.sessions.resume(otherBrowser.id), null);
  });

  it('answers 404 for an unknown id', async () => {
    const { auth, as } = await signedInAdmin();
    assert.deepEqual(refusal(removeUser(auth, as, 'nope')), [404, 'no user with id nope']);
    assert.equal(refusal(await changeUser(auth, as, 'nope', { role: 'viewer' }))[0], 404);
  });
});
