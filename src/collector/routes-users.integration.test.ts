import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ServerProcess, startServer } from '../testing/server-process.js';

const PASSWORD = 'plum tractor quietly 42';

/** A signed-in browser: the session cookie and the CSRF token it was given. */
interface Browser {
  cookie: string;
  csrf: string;
}
interface UserView {
  id: string;
  email: string;
  role: string;
}
interface AuditView {
  action: string;
  actor: string | null;
  target: string | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
}

describe('user management over HTTP', () => {
  let server: ServerProcess;
  let admin: Browser;
  let adminId: string;

  type Init = RequestInit & { as?: Browser; csrf?: boolean; key?: string; json?: unknown };
  const call = (path: string, init: Init = {}) => {
    const headers: Record<string, string> = {};
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    if (init.as) headers.cookie = init.as.cookie;
    if (init.as && init.csrf !== false) headers['x-csrf-token'] = init.as.csrf;
    if (init.key) headers.authorization = `Bearer ${init.key}`;
    return fetch(`${server.url}${path}`, {
      ...init,
      headers,
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
  };
  const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;
  const signIn = async (email: string, password = PASSWORD): Promise<Browser | number> => {
    const res = await call('/api/v1/login', { method: 'POST', json: { email, password } });
    if (res.status !== 200) return res.status;
    const cookie = res.headers.getSetCookie()[0].split(';')[0];
    return { cookie, csrf: ((await res.json()) as { csrfToken: string }).csrfToken };
  };
  const browserOf = async (email: string, password = PASSWORD) => {
    const b = await signIn(email, password);
    assert.ok(typeof b === 'object', `${email} signs in (got ${b})`);
    return b;
  };
  const createUser = async (email: string, role: string, as: Init = { as: admin }) => {
    const res = await call('/api/v1/users', {
      ...as,
      method: 'POST',
      json: { email, role, password: PASSWORD },
    });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { user: UserView }).user;
  };
  const listUsers = async () =>
    ((await (await call('/api/v1/users', { key: server.apiKey })).json()) as { users: UserView[] }).users;
  const audit = async (limit = 20) =>
    (
      (await (await call(`/api/v1/audit?limit=${limit}`, { key: server.apiKey })).json()) as {
        entries: AuditView[];
      }
    ).entries;

  before(async () => {
    server = await startServer();
    const token = /setup\?token=([\w-]+)/.exec(server.output())?.[1];
    const res = await call('/api/v1/setup', {
      method: 'POST',
      json: { token, email: 'owner@shop.example', password: PASSWORD },
    });
    assert.equal(res.status, 201, await res.clone().text());
    const body = (await res.json()) as { csrfToken: string; user: UserView };
    admin = { cookie: res.headers.getSetCookie()[0].split(';')[0], csrf: body.csrfToken };
    adminId = body.user.id;
  });
  after(() => server?.cleanup());

  it('lets an admin add a user, change their role and password, and remove them, each audited', async () => {
    const ann = await createUser('Ann@Shop.Example', 'viewer');
    assert.deepEqual([ann.email, ann.role], ['ann@shop.example', 'viewer']);
    assert.deepEqual(
      (await listUsers()).map((u) => [u.email, u.role]),
      [
        ['ann@shop.example', 'viewer'],
        ['owner@shop.example', 'admin'],
      ],
    );
    const listed = await (await call('/api/v1/users', { as: admin })).text();
    assert.ok(!/password|hash/i.test(listed), 'no password hashes in the list');

    const annBrowser = await browserOf('ann@shop.example');
    const promoted = await call(`/api/v1/users/${ann.id}`, {
      as: admin,
      method: 'PATCH',
      json: { role: 'analyst' },
    });
    assert.equal(promoted.status, 200);
    assert.equal(((await promoted.json()) as { user: UserView }).user.role, 'analyst');
    // The new role applies to Ann's open session at once.
    const me = (await (await call('/api/v1/me', { as: annBrowser })).json()) as {
      permissions: { query: boolean };
    };
    assert.equal(me.permissions.query, true);

    const reset = await call(`/api/v1/users/${ann.id}`, {
      as: admin,
      method: 'PATCH',
      json: { password: 'a brand new passphrase' },
    });
    assert.equal(reset.status, 200);
    assert.equal((await call('/api/v1/me', { as: annBrowser })).status, 401, 'a reset signs Ann out');
    assert.equal(await signIn('ann@shop.example'), 401, 'the old password no longer works');
    const annAgain = await browserOf('ann@shop.example', 'a brand new passphrase');

    const removed = await call(`/api/v1/users/${ann.id}`, { as: admin, method: 'DELETE' });
    assert.equal(removed.status, 204);
    assert.equal((await call('/api/v1/me', { as: annAgain })).status, 401, 'a removed user is signed out');
    assert.equal(await signIn('ann@shop.example', 'a brand new passphrase'), 401);
    assert.equal((await call(`/api/v1/users/${ann.id}`, { as: admin, method: 'DELETE' })).status, 404);

    const entries = await audit();
    const mine = entries.filter((e) => e.target === 'ann@shop.example' && e.actor === 'owner@shop.example');
    assert.deepEqual(
      mine.map((e) => [e.action, e.detail]),
      [
        ['user_removed', { role: 'analyst' }],
        ['user_password_set', null],
        ['user_role_changed', { from: 'viewer', to: 'analyst' }],
        ['user_created', { role: 'viewer' }],
      ],
    );
    assert.ok(mine.every((e) => e.ip === '127.0.0.1'));
  });

  it('refuses bad input with 400 and says what is wrong', async () => {
    const post = (json: unknown) => call('/api/v1/users', { as: admin, method: 'POST', json });
    const weak = await post({ email: 'bob@shop.example', role: 'viewer', password: 'password1234' });
    assert.equal(weak.status, 400);
    assert.match(await errorOf(weak), /too common/);
    const role = await post({ email: 'bob@shop.example', role: 'root', password: PASSWORD });
    assert.equal(role.status, 400);
    assert.equal(await errorOf(role), 'role must be one of viewer, analyst, admin');
    const typo = await post({ email: 'bob@shop.example', rol: 'viewer', password: PASSWORD });
    assert.equal(typo.status, 400);
    assert.match(await errorOf(typo), /unknown field rol/);
    const email = await post({ email: 'bob', role: 'viewer', password: PASSWORD });
    assert.match(await errorOf(email), /not an email address/);
    const taken = await post({ email: 'OWNER@shop.example', role: 'viewer', password: PASSWORD });
    assert.equal(taken.status, 409);
    const empty = await call(`/api/v1/users/${adminId}`, { as: admin, method: 'PATCH', json: {} });
    assert.equal(empty.status, 400);
    assert.ok(!(await listUsers()).some((u) => u.email === 'bob@shop.example'));
  });

  it('answers 403 to a viewer and to an API key without the admin scope', async () => {
    const viewer = await createUser('viewer@shop.example', 'viewer');
    const viewerBrowser = await browserOf('viewer@shop.example');
    const created = await call('/api/v1/api-keys', {
      key: server.apiKey,
      method: 'POST',
      json: { name: 'reporting', scopes: ['query'] },
    });
    const queryKey = ((await created.json()) as { key: string }).key;

    for (const who of [{ as: viewerBrowser }, { key: queryKey }] as Init[]) {
      const label = who.as ? 'viewer' : 'query key';
      assert.equal((await call('/api/v1/users', who)).status, 403, label);
      const add = {
        ...who,
        method: 'POST',
        json: { email: 'x@shop.example', role: 'admin', password: PASSWORD },
      };
      assert.equal((await call('/api/v1/users', add)).status, 403, label);
      const patch = { ...who, method: 'PATCH', json: { role: 'admin' } };
      assert.equal((await call(`/api/v1/users/${viewer.id}`, patch)).status, 403, label);
      assert.equal((await call(`/api/v1/users/${adminId}`, { ...who, method: 'DELETE' })).status, 403, label);
      assert.equal((await call('/api/v1/audit', who)).status, 403, label);
    }
    const denied = await call('/api/v1/users', { as: viewerBrowser });
    assert.equal(await errorOf(denied), 'this needs the admin role; you are viewer');
    assert.equal((await listUsers()).find((u) => u.id === viewer.id)?.role, 'viewer', 'unchanged');
    assert.equal((await call('/api/v1/users')).status, 401, 'nobody signed in');
  });

  it('answers 403 to an admin session that does not send the CSRF token, and changes nothing', async () => {
    const target = (await listUsers()).find((u) => u.email === 'viewer@shop.example')!;
    const noToken = { as: admin, csrf: false };
    const add = await call('/api/v1/users', {
      ...noToken,
      method: 'POST',
      json: { email: 'csrf@shop.example', role: 'admin', password: PASSWORD },
    });
    assert.equal(add.status, 403);
    assert.match(await errorOf(add), /X-CSRF-Token/);
    const patch = { ...noToken, method: 'PATCH', json: { role: 'admin' } };
    assert.equal((await call(`/api/v1/users/${target.id}`, patch)).status, 403);
    const forged = { as: admin, method: 'DELETE', headers: { 'x-csrf-token': 'forged' } };
    assert.equal((await call(`/api/v1/users/${target.id}`, { ...forged, csrf: false })).status, 403);
    const users = await listUsers();
    assert.ok(!users.some((u) => u.email === 'csrf@shop.example'));
    assert.equal(users.find((u) => u.id === target.id)?.role, 'viewer');
  });

  it('keeps the last admin, and does not let an admin demote or remove themselves', async () => {
    // Through the admin API key, so the refusal is the last-admin rule, not the self rule.
    const demote = await call(`/api/v1/users/${adminId}`, {
      key: server.apiKey,
      method: 'PATCH',
      json: { role: 'viewer' },
    });
    assert.equal(demote.status, 409);
    assert.equal(
      await errorOf(demote),
      'owner@shop.example is the only admin; make another user admin first',
    );
    const remove = await call(`/api/v1/users/${adminId}`, { key: server.apiKey, method: 'DELETE' });
    assert.equal(remove.status, 409);

    const second = await createUser('second@shop.example', 'admin', { key: server.apiKey });
    const selfDemote = await call(`/api/v1/users/${adminId}`, {
      as: admin,
      method: 'PATCH',
      json: { role: 'analyst' },
    });
    assert.equal(selfDemote.status, 409);
    assert.match(await errorOf(selfDemote), /your own role/);
    const selfRemove = await call(`/api/v1/users/${adminId}`, { as: admin, method: 'DELETE' });
    assert.equal(selfRemove.status, 409);
    assert.match(await errorOf(selfRemove), /your own account/);
    assert.equal((await listUsers()).find((u) => u.id === adminId)?.role, 'admin');

    // Another admin may demote the owner now; then the second admin is the last one.
    const secondBrowser = await browserOf('second@shop.example');
    const byOther = await call(`/api/v1/users/${adminId}`, {
      as: secondBrowser,
      method: 'PATCH',
      json: { role: 'analyst' },
    });
    assert.equal(byOther.status, 200);
    assert.equal((await call('/api/v1/users', { as: admin })).status, 403, 'the demoted owner lost access');
    const last = await call(`/api/v1/users/${second.id}`, { key: server.apiKey, method: 'DELETE' });
    assert.equal(last.status, 409);

    const [latest] = await audit(1);
    assert.deepEqual(
      [latest.action, latest.actor, latest.target, latest.detail],
      ['user_role_changed', 'second@shop.example', 'owner@shop.example', { from: 'admin', to: 'analyst' }],
    );
  });

  it('lets an admin reset their own password without being signed out of this browser', async () => {
    const self = await browserOf('second@shop.example');
    const elsewhere = await browserOf('second@shop.example');
    const second = (await listUsers()).find((u) => u.email === 'second@shop.example')!;
    const res = await call(`/api/v1/users/${second.id}`, {
      as: self,
      method: 'PATCH',
      json: { password: 'lantern orchard quietly 77' },
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await call('/api/v1/me', { as: self })).status, 200);
    assert.equal((await call('/api/v1/me', { as: elsewhere })).status, 401);
  });

  it('answers /admin with the dashboard shell', async () => {
    // 200 once `npm run build:web` has run, 503 with instructions before; never 404.
    assert.notEqual((await fetch(`${server.url}/admin`)).status, 404);
  });
});
