import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, ensureDashboardBuilt, launchChromium } from '../testing/browser.js';
import { CHROME_UA } from '../testing/ingest-context.js';
import {
  eventually,
  postEvents,
  runCli,
  type ServerProcess,
  startServer,
} from '../testing/server-process.js';

// The dashboard in Debian's Chromium: login, live updates over SSE, Ops, logout.
const skip = chromiumMissing();
const ROOT = new URL('../../', import.meta.url);
const ARTIFACTS = new URL('test-artifacts/', ROOT);
const EMAIL = 'owner@shop.example';
const PASSWORD = 'correct horse battery staple 42';
// Shown as text wherever they appear; if either ran, it would set window.__xss.
const XSS_PRODUCT = '<img src=x onerror="window.__xss=1">';
const XSS_BRAND = '<script>window.__xss=2</script>';
const XSS_CAMPAIGN = '<img src=x onerror="window.__xss=3">';

const numberIn = (text: string | null) => Number((text ?? '').replace(/[^\d.]/g, ''));
const text = (page: Page, testId: string) => page.getByTestId(testId).textContent();

describe('dashboard in Chromium', { skip }, () => {
  let server: ServerProcess;
  let browser: Browser;

  before(async () => {
    ensureDashboardBuilt();
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
    const added = await runCli(['users', 'add', EMAIL, '--role', 'admin', '--password-stdin'], {
      dataDir: server.dataDir,
      input: `${PASSWORD}\n`,
    });
    assert.equal(added.code, 0, `users add failed:\n${added.stdout}\n${added.stderr}`);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('log in, watch events arrive live, see Ops, log out', { timeout: 90_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && !/401/.test(m.text()) && problems.push(m.text()));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });

    // Signed out, any page shows the login form.
    await page.goto(`${server.url}/live`);
    await page.getByTestId('login-form').waitFor();
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill('not the password at all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('live-page').waitFor();
    await page.getByTestId('feed-status').filter({ hasText: 'Live' }).waitFor();
    const before = numberIn(await text(page, 'counter-events-value'));
    const chartBefore = await page.getByTestId('chart-events').getAttribute('data-summary');

    const events = [
      {
        type: 'page_view',
        url: 'https://shop.example/',
        referrer: 'https://news.example/post',
        visitor_id: 'e1',
      },
      { type: 'view', product_id: 'e2e-lamp', brand: 'lumen', price: 30, visitor_id: 'e1' },
      { type: 'view', product_id: XSS_PRODUCT, brand: XSS_BRAND, price: 5, visitor_id: 'e2' },
      // Hostile campaign and referrer.
      {
        type: 'page_view',
        url: `https://shop.example/?utm_campaign=${encodeURIComponent(XSS_CAMPAIGN)}`,
        referrer: 'https://evil.example/"><script>window.__xss=4</script>',
        visitor_id: 'e3',
      },
      { type: 'cart', product_id: 'e2e-lamp', price: 30, visitor_id: 'e1' },
      { type: 'purchase', product_id: 'e2e-lamp', price: 30, order_id: 'e2e-o1', visitor_id: 'e1' },
    ];
    // node's own fetch UA is flagged as a bot and kept out of business metrics: send a desktop Chrome's.
    const r = await postEvents(server, { events }, { 'user-agent': CHROME_UA });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // A hostile user agent (a backend may pass the visitor's UA in the event): isbot flags it, so it
    // shows under bots and in the feed, not in the business figures.
    const hostileUa = await postEvents(
      server,
      {
        type: 'view',
        product_id: 'ua-probe',
        user_agent: `<img src=x onerror="window.__xss=5"> ${CHROME_UA}`,
      },
      { 'user-agent': CHROME_UA },
    );
    assert.equal(hostileUa.status, 200);

    // No reload: the SSE stream brings the new numbers.
    await eventually(
      async () => numberIn(await text(page, 'counter-events-value')) >= before + events.length,
      10_000,
    );
    await page.getByTestId('top-products').getByText('e2e-lamp').waitFor();
    assert.notEqual(await page.getByTestId('chart-events').getAttribute('data-summary'), chartBefore);
    assert.equal(numberIn(await text(page, 'counter-orders-value')), 1);
    assert.equal(numberIn(await text(page, 'counter-revenue-value')), 30);
    await page.getByTestId('top-referrers').getByText('news.example').waitFor();
    await page.getByTestId('top-browsers').getByText('Chrome').waitFor();

    // Hostile fields are shown as inert text.
    await page.getByTestId('top-products').getByText(XSS_PRODUCT, { exact: true }).waitFor();
    await page.getByTestId('top-brands').getByText(XSS_BRAND, { exact: true }).waitFor();
    await page.getByTestId('top-utm-campaigns').getByText(XSS_CAMPAIGN, { exact: true }).waitFor();
    await page.getByTestId('top-referrers').getByText('evil.example').waitFor();
    assert.equal(await page.evaluate(() => (window as { __xss?: number }).__xss), undefined);
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    await page.screenshot({ path: new URL('dashboard-live.png', ARTIFACTS).pathname, fullPage: true });

    await page.getByRole('link', { name: 'Ops' }).click();
    await page.getByTestId('ops-page').waitFor();
    await page.getByTestId('lag-table').getByText('realtime ← events').waitFor();
    // The ingest rate needs two polls (2 s apart) to become a number.
    await eventually(async () => /\d/.test((await text(page, 'ops-ingest-rate-value')) ?? ''), 10_000);
    const ingested = async () =>
      numberIn(await page.getByTestId('ops-ingest-rate').locator('.counter-hint').textContent());
    assert.ok((await ingested()) >= events.length, 'ingested since start counts the posted events');
    // More traffic while watching: the figures follow without a reload.
    const more = await postEvents(server, { events: events.slice(0, 3) }, { 'user-agent': CHROME_UA });
    assert.equal(more.status, 200, JSON.stringify(more.body));
    await eventually(async () => (await ingested()) >= events.length + 3, 10_000);
    await eventually(async () => numberIn(await text(page, 'ops-ingest-rate-value')) > 0, 10_000);
    await page.screenshot({ path: new URL('dashboard-ops.png', ARTIFACTS).pathname, fullPage: true });

    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    const statuses = await page.evaluate(async () =>
      Promise.all(
        ['/api/v1/sites/default/realtime', '/api/v1/ops', '/api/v1/sites'].map(
          async (p) => (await fetch(p, { credentials: 'same-origin' })).status,
        ),
      ),
    );
    assert.deepEqual(statuses, [401, 401, 401], 'the browser is refused once logged out');
    await page.goto(`${server.url}/ops`);
    await page.getByTestId('login-form').waitFor();
    assert.deepEqual(problems, [], 'no page errors, console errors or dialogs');
    await context.close();
  });

  test('an unauthenticated caller is refused by every dashboard API', async () => {
    for (const path of [
      '/api/v1/sites',
      '/api/v1/ops',
      '/api/v1/sites/default/realtime',
      '/api/v1/sites/default/realtime/stream',
    ]) {
      assert.equal((await fetch(`${server.url}${path}`)).status, 401, path);
    }
    // The page shells load (they show the login form); the data does not.
    const shell = await fetch(`${server.url}/ops`);
    assert.equal(shell.status, 200);
    assert.match(shell.headers.get('content-type') ?? '', /^text\/html/);
  });
});
