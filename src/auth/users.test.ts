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

  it('keeps at least one admin', async () => {
    const { users } = testAuthServices();
    await users.create('root@x.io', 'admin', PW);
    assert.match(reason(users.remove('root@x.io')), /only admin/);
    assert.match(reason(users.setRole('root@x.io', 'viewer')), /only admin/);
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
});
