import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Role } from './roles.js';
import { testAuthServices } from './test-services.js';
import type { UserResult } from './users.js';

const PW = 'plum tractor quietly 42';
const reason = (r: UserResult<unknown>) => (r.ok ? '(accepted)' : r.reason);

describe('users', () => {
  it('creates users with a normalised email and refuses duplicates, bad emails, roles and passwords', async () => {
    const { users } = testAuthServices();
    const r = await users.create('  Ann@Shop.Example ', 'analyst', PW);
    assert.ok(r.ok);
    assert.equal(r.value.email, 'ann@shop.example');
    assert.deepEqual(await users.create('ANN@shop.example', 'viewer', PW), {
      ok: false,
      kind: 'conflict',
      reason: 'a user ann@shop.example already exists',
    });
    assert.match(reason(await users.create('not-an-email', 'viewer', PW)), /not an email/);
    assert.match(reason(await users.create('b@x.io', 'root' as Role, PW)), /viewer, analyst, admin/);
    assert.match(reason(await users.create('b@x.io', 'viewer', 'short')), /12 characters/);
    assert.deepEqual(
      users.list().map((u) => [u.email, u.role]),
      [['ann@shop.example', 'analyst']],
    );
  });

  it('creates one user when two requests for the same email race', async () => {
    const { users } = testAuthServices();
    const results = await Promise.all([
      users.create('race@x.io', 'viewer', PW),
      users.create('RACE@x.io', 'admin', PW),
    ]);
    assert.deepEqual(results.map((r) => (r.ok ? 'created' : r.kind)).sort(), ['conflict', 'created']);
    assert.equal(users.count(), 1);
  });

  it('keeps at least one admin', async () => {
    const { users } = testAuthServices();
    await users.create('root@x.io', 'admin', PW);
    const kept = users.remove('root@x.io');
    assert.ok(!kept.ok && kept.kind === 'conflict');
    assert.match(reason(kept), /only admin/);
    assert.match(reason(users.setRole('root@x.io', 'viewer')), /only admin/);
    assert.ok(users.setRole('root@x.io', 'admin').ok, 'an admin may stay admin');
    await users.create('second@x.io', 'admin', PW);
    assert.ok(users.setRole('root@x.io', 'viewer').ok);
    assert.ok(users.remove('root@x.io').ok);
    assert.equal(users.count(), 1);
  });

  it('signs a user out everywhere when removed or given a new password', async () => {
    const { users, sessions } = testAuthServices();
    await users.create('boss@x.io', 'admin', PW);
    const ann = await users.create('ann@x.io', 'viewer', PW);
    assert.ok(ann.ok);
    const s1 = sessions.create(ann.value.id, {});
    assert.ok((await users.setPassword('ann@x.io', 'another long passphrase')).ok);
    assert.equal(sessions.resume(s1.id), null);
    const s2 = sessions.create(ann.value.id, {});
    assert.ok(users.remove('ann@x.io').ok);
    assert.equal(sessions.resume(s2.id), null);
  });

  it('tells a missing user apart from a refused input', async () => {
    const { users } = testAuthServices();
    for (const r of [
      users.remove('ghost@x.io'),
      users.setRole('ghost@x.io', 'viewer'),
      await users.setPassword('ghost@x.io', PW),
    ]) {
      assert.deepEqual(r, { ok: false, kind: 'not-found', reason: 'no user ghost@x.io' });
    }
    await users.create('ann@x.io', 'viewer', PW);
    const weak = await users.setPassword('ann@x.io', 'short');
    assert.ok(!weak.ok && weak.kind === undefined);
    assert.match(weak.reason, /12 characters/);
  });

  it('keeps the session that changed its own password, and signs out the others', async () => {
    const { users, sessions } = testAuthServices();
    const boss = await users.create('boss@x.io', 'admin', PW);
    assert.ok(boss.ok);
    const here = sessions.create(boss.value.id, {});
    const elsewhere = sessions.create(boss.value.id, {});
    assert.ok(
      (await users.setPassword('boss@x.io', 'another long passphrase', { keepSession: here.session.idHash }))
        .ok,
    );
    assert.ok(sessions.resume(here.id));
    assert.equal(sessions.resume(elsewhere.id), null);
  });
});
