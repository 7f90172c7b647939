import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumMissing, ensureDashboardBuilt, launchChromium } from '../testing/browser.js';
import { runCli, type ServerProcess, startServer } from '../testing/server-process.js';

// The Admin page in Debian's Chromium: users, API keys and the audit log, as an admin and as a viewer.
const skip = chromiumMissing();
const ROOT = new URL('../../', import.meta.url);
const ARTIFACTS = new URL('test-artifacts/', ROOT);
const ADMIN = 'owner@shop.example';
const PASSWORD = 'correct horse battery staple 42';
// An API key named like this lands in the audit detail; if it ran, it would set window.__xss.
const XSS_NAME = '<img src=x onerror="window.__xss=1">';
// More entries than the Admin page loads at once, so "Load older" has something to fetch.
const PROBES = 60;

/** A page that collects errors, unexpected console errors and dialogs; the test asserts there are none. */
async function watchedPage(context: BrowserContext) {
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  // Refusals the test provokes on purpose show up as failed resource loads.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (400|401|403|409)/.test(m.text())) problems.push(m.text());
  });
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return { page, problems };
}

async function signIn(page: Page, url: string, email: string, password: string) {
  await page.goto(url);
  await page.getByTestId('login-form').waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('live-page').or(page.getByText('No sites yet')).waitFor();
}

const fetchStatus = (page: Page, path: string) =>
  page.evaluate(async (p) => (await fetch(p, { credentials: 'same-origin' })).status, path);

describe('Admin page in Chromium', { skip }, () => {
  let server: ServerProcess;
  let browser: Browser;

  before(async () => {
    ensureDashboardBuilt();
    [server, browser] = await Promise.all([
      // The probes below are failed logins from one address: give that address room for them.
      startServer({
        env: { STOREPULSE_AUTH__LOGIN_IP_BURST: '1000', STOREPULSE_AUTH__LOGIN_IP_PER_MINUTE: '1000' },
      }),
      launchChromium(),
    ]);
    const added = await runCli(['users', 'add', ADMIN, '--role', 'admin', '--password-stdin'], {
      dataDir: server.dataDir,
      input: `${PASSWORD}\n`,
    });
    assert.equal(added.code, 0, `users add failed:\n${added.stdout}\n${added.stderr}`);
    for (let i = 0; i < PROBES; i++) {
      const res = await fetch(`${server.url}/api/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `probe-${i}@nowhere.example`, password: 'not a real password' }),
      });
      assert.equal(res.status, 401);
    }
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('an admin manages users and API keys and reads each change in the audit log', {
    timeout: 120_000,
  }, async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 1000 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const { page, problems } = await watchedPage(context);
    await signIn(page, `${server.url}/live`, ADMIN, PASSWORD);
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByTestId('admin-page').waitFor();
    assert.equal(new URL(page.url()).pathname, '/admin');

    // Users: your own row cannot be demoted or removed from here.
    const users = page.getByTestId('admin-users');
    const ownRow = page.getByTestId(`user-${ADMIN}`);
    await ownRow.waitFor();
    assert.ok(await ownRow.getByLabel(`Role of ${ADMIN}`).isDisabled());
    assert.ok(await ownRow.getByRole('button', { name: 'Remove' }).isDisabled());

    const addForm = page.getByTestId('add-user-form');
    const addUser = async (email: string, role: string, password: string) => {
      await addForm.getByLabel('Email').fill(email);
      await addForm.getByLabel('Role').selectOption(role);
      await addForm.getByLabel('Password').fill(password);
      await addForm.getByRole('button', { name: 'Add user' }).click();
    };
    // A refusal from the server is shown where it happened, in its words.
    await addUser('weak@shop.example', 'viewer', 'password1234');
    await users.getByTestId('users-error').filter({ hasText: 'too common' }).waitFor();

    await addUser('ann@shop.example', 'viewer', PASSWORD);
    await page.getByTestId('user-ann@shop.example').waitFor();
    assert.equal(await page.getByTestId('users-error').count(), 0, 'the error is gone after a success');
    await addUser('bob@shop.example', 'analyst', PASSWORD);
    const bob = page.getByTestId('user-bob@shop.example');
    await bob.waitFor();
    await bob.getByLabel('Role of bob@shop.example').selectOption('viewer');
    await users.getByRole('status').filter({ hasText: 'bob@shop.example is now viewer' }).waitFor();
    await bob.getByRole('button', { name: 'Reset password' }).click();
    await users.getByLabel('New password for bob@shop.example').fill('a brand new passphrase');
    await users.getByRole('button', { name: 'Set password', exact: true }).click();
    await users.getByRole('status').filter({ hasText: 'Password of bob@shop.example changed' }).waitFor();
    await bob.getByRole('button', { name: 'Remove' }).click();
    await bob.getByRole('button', { name: 'Yes, remove bob@shop.example' }).click();
    await bob.waitFor({ state: 'detached' });

    // API keys: the secret is shown once, can be copied, and is gone after "Done".
    const keys = page.getByTestId('admin-keys');
    const keyForm = page.getByTestId('create-key-form');
    await keyForm.getByLabel('Name').fill(XSS_NAME);
    await keyForm.getByLabel('Scope').selectOption('query');
    await keyForm.getByRole('button', { name: 'Create key' }).click();
    const secret = (await page.getByTestId('new-key-secret').textContent()) ?? '';
    assert.match(secret, /^sp_key_[\w-]{32}$/);
    await page.getByTestId('new-key').getByText('it will not be shown again').waitFor();
    await keys.screenshot({ path: new URL('dashboard-admin-new-key.png', ARTIFACTS).pathname });
    await page.getByTestId('new-key').getByRole('button', { name: 'Copy' }).click();
    await page.getByTestId('new-key').getByRole('status').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    const byKey = await fetch(`${server.url}/api/v1/sites/default/realtime`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    assert.equal(byKey.status, 200, 'the shown secret is a working key');
    await page.getByTestId('new-key').getByRole('button', { name: 'Done' }).click();
    assert.ok(!(await page.content()).includes(secret), 'the secret is no longer in the page');

    const keyRow = keys.locator('tbody tr').filter({ hasText: XSS_NAME });
    await keyRow.getByRole('button', { name: 'Revoke' }).click();
    await keyRow.getByRole('button', { name: `Yes, revoke ${XSS_NAME}` }).click();
    await keyRow.getByText('revoked').waitFor();
    const afterRevoke = await fetch(`${server.url}/api/v1/sites/default/realtime`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    assert.equal(afterRevoke.status, 403);

    // Audit log: newest first, every change above, the hostile key name as inert text.
    const audit = page.getByTestId('audit-table');
    const row = (action: string) => audit.locator(`tbody tr[data-action="${action}"]`);
    await row('api_key_revoked').waitFor();
    const actions = await audit
      .locator('tbody tr')
      .evaluateAll((rows) => rows.slice(0, 7).map((r) => r.getAttribute('data-action')));
    assert.deepEqual(actions, [
      'api_key_revoked',
      'api_key_created',
      'user_removed',
      'user_password_set',
      'user_role_changed',
      'user_created',
      'user_created',
    ]);
    assert.equal(await row('user_removed').locator('td').nth(2).textContent(), ADMIN, 'actor');
    assert.equal(await row('user_removed').locator('td').nth(3).textContent(), 'bob@shop.example', 'target');
    assert.equal(await row('user_removed').locator('td').nth(4).textContent(), '127.0.0.1', 'IP');
    assert.equal(
      await row('api_key_created').locator('td.detail').textContent(),
      `name: ${XSS_NAME} · scopes: query`,
    );
    // Key ids are shown as the key's name, which is text too.
    assert.equal(await row('api_key_revoked').locator('td').nth(3).textContent(), `key “${XSS_NAME}”`);
    assert.equal(await page.locator('img[src="x"]').count(), 0, 'no element made from the key name');
    assert.equal(await page.evaluate(() => (window as { __xss?: number }).__xss), undefined);

    // Filtering by action, and paging back to the oldest entry (the CLI created the admin).
    await page.getByTestId('audit-filter').selectOption('login_failed');
    const shownActions = await audit
      .locator('tbody tr')
      .evaluateAll((rows) => [...new Set(rows.map((r) => r.getAttribute('data-action')))]);
    assert.deepEqual(shownActions, ['login_failed']);
    await page.getByTestId('audit-filter').selectOption('');
    assert.equal(await audit.locator('tbody tr').count(), 50, 'one page at first');
    const cliRow = audit.locator('tbody tr').filter({ hasText: /cli:/ });
    assert.equal(await cliRow.count(), 0);
    await page.getByRole('button', { name: 'Load older' }).click();
    await cliRow.first().waitFor();
    assert.equal(await page.getByRole('button', { name: 'Load older' }).count(), 0, 'nothing older left');
    await page.getByTestId('audit-filter').selectOption('user_created');
    await page.getByTestId('audit-filter').selectOption('');

    // The page survives a reload at its own address (the server answers /admin with the dashboard).
    await page.reload();
    await page.getByTestId('admin-page').waitFor();
    await row('api_key_revoked').waitFor();
    assert.ok(!(await page.content()).includes(secret), 'the secret is not shown again');

    await page.screenshot({ path: new URL('dashboard-admin.png', ARTIFACTS).pathname, fullPage: true });
    await page.getByTestId('theme-toggle').click();
    const theme = await page.evaluate(() => document.documentElement.dataset.theme);
    await page.screenshot({
      path: new URL(`dashboard-admin-${theme}.png`, ARTIFACTS).pathname,
      fullPage: true,
    });

    // At phone width the page does not scroll sideways; the wide tables scroll inside their cards.
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth - window.innerWidth,
      audit: (() => {
        const box = document.querySelector('[data-testid="audit-table"]')!.parentElement!;
        return box.scrollWidth - box.clientWidth;
      })(),
    }));
    assert.ok(overflow.page <= 0, `the page is ${overflow.page}px wider than the phone`);
    assert.ok(overflow.audit > 0, 'the audit table scrolls horizontally');
    await page.screenshot({ path: new URL('dashboard-admin-phone.png', ARTIFACTS).pathname, fullPage: true });

    assert.deepEqual(problems, [], 'no page errors, console errors or dialogs');
    await context.close();
  });

  test('a viewer sees no Admin link and is refused the admin APIs', async () => {
    const created = await fetch(`${server.url}/api/v1/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.apiKey}` },
      body: JSON.stringify({ email: 'viewer@shop.example', role: 'viewer', password: PASSWORD }),
    });
    assert.equal(created.status, 201);
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const { page, problems } = await watchedPage(context);
    await signIn(page, `${server.url}/live`, 'viewer@shop.example', PASSWORD);
    await page.getByRole('link', { name: 'Ops' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Admin' }).count(), 0);
    for (const path of ['/api/v1/audit', '/api/v1/users', '/api/v1/api-keys']) {
      assert.equal(await fetchStatus(page, path), 403, path);
    }
    // Typing the address does not show the page either.
    await page.goto(`${server.url}/admin`);
    await page.getByTestId('live-page').waitFor();
    assert.equal(new URL(page.url()).pathname, '/live');
    assert.equal(await page.getByTestId('admin-page').count(), 0);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
