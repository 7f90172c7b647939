import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumMissing, ensureDashboardBuilt, launchChromium } from '../testing/browser.js';
import { CHROME_UA } from '../testing/ingest-context.js';
import {
  eventually,
  postEvents,
  runCli,
  type ServerProcess,
  startServer,
} from '../testing/server-process.js';

// The customer page in Debian's Chromium: search a user, see their orders, lines, refunds and activity.
const skip = chromiumMissing();
const ROOT = new URL('../../', import.meta.url);
const ARTIFACTS = new URL('test-artifacts/', ROOT);
const PASSWORD = 'correct horse battery staple 42';
const ANALYST = 'analyst@shop.example';
const VIEWER = 'viewer@shop.example';
// Shown as text; if it ran, it would set window.__xss.
const XSS_PRODUCT = '<img src=x onerror="window.__xss=1">';

describe('customer page in Chromium', { skip }, () => {
  let server: ServerProcess;
  let browser: Browser;

  before(async () => {
    ensureDashboardBuilt();
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
    for (const [email, role] of [
      [ANALYST, 'analyst'],
      [VIEWER, 'viewer'],
    ]) {
      const added = await runCli(['users', 'add', email, '--role', role, '--password-stdin'], {
        dataDir: server.dataDir,
        input: `${PASSWORD}\n`,
      });
      assert.equal(added.code, 0, `users add failed:\n${added.stdout}\n${added.stderr}`);
    }
    mkdirSync(ARTIFACTS, { recursive: true });

    const t0 = Date.now() - 2 * 3_600_000;
    const at = (min: number) => t0 + min * 60_000;
    const events = [
      { type: 'page_view', time: at(0), user_id: 'cust-1', url: 'https://shop.example/' },
      { type: 'view', time: at(1), user_id: 'cust-1', product_id: 'lamp', price: 30 },
      {
        type: 'purchase',
        time: at(2),
        user_id: 'cust-1',
        order_id: 'ORD-1',
        product_id: 'lamp',
        brand: 'lumen',
        price: 30,
        quantity: 1,
        currency: 'EUR',
      },
      {
        type: 'purchase',
        time: at(2),
        user_id: 'cust-1',
        order_id: 'ORD-1',
        product_id: 'bulb',
        brand: 'lumen',
        price: 2.5,
        quantity: 4,
        currency: 'EUR',
      },
      {
        type: 'purchase',
        time: at(30),
        user_id: 'cust-1',
        order_id: 'ORD-2',
        product_id: XSS_PRODUCT,
        price: 12,
        currency: 'EUR',
      },
      {
        type: 'purchase',
        time: at(60),
        user_id: 'cust-1',
        order_id: 'ORD-3',
        product_id: 'desk',
        price: 200,
        currency: 'EUR',
      },
      { type: 'refund', time: at(70), user_id: 'cust-1', order_id: 'ORD-1', product_id: 'bulb' },
      { type: 'refund', time: at(75), user_id: 'cust-1', order_id: 'ORD-3' },
      { type: 'search', time: at(80), user_id: 'cust-1', url: 'https://shop.example/search?q=chair' },
      // Someone with many orders, for paging.
      ...Array.from({ length: 25 }, (_, i) => ({
        type: 'purchase',
        time: at(i),
        user_id: 'whale',
        order_id: `W-${String(i).padStart(2, '0')}`,
        product_id: `p${i}`,
        price: 10,
      })),
    ];
    const r = await postEvents(server, { events }, { 'user-agent': CHROME_UA });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await eventually(async () => {
      const res = await fetch(`${server.url}/api/v1/sites/default/users/whale`, {
        headers: { authorization: `Bearer ${server.apiKey}` },
      });
      return res.ok && ((await res.json()) as { orders: number }).orders === 25;
    });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    server?.cleanup();
  });

  const signIn = async (context: BrowserContext, email: string, path = '/live') => {
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${server.url}${path}`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('live-page').waitFor();
    return page;
  };
  const watch = (page: Page) => {
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && !/40[14]/.test(m.text()) && problems.push(m.text()));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    return problems;
  };

  test('an analyst finds a customer: orders newest first, lines, refunds, activity', {
    timeout: 90_000,
  }, async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 1000 } });
    const page = await signIn(context, ANALYST);
    const problems = watch(page);

    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByTestId('customer-page').waitFor();
    await page.getByLabel('User or visitor id').fill('cust-1');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('order').first().waitFor();

    const orders = page.getByTestId('order');
    assert.deepEqual(
      await orders.evaluateAll((els) =>
        els.map((e) => [e.getAttribute('data-order-id'), e.getAttribute('data-status')]),
      ),
      [
        ['ORD-3', 'refunded'],
        ['ORD-2', 'purchased'],
        ['ORD-1', 'partially_refunded'],
      ],
    );
    const ord1 = page.locator('[data-order-id="ORD-1"]');
    await ord1.getByText('Partially refunded').waitFor();
    assert.equal(await ord1.locator('tbody tr').count(), 3, 'two lines and the refund');
    await ord1.getByText('Refund: bulb').waitFor();
    assert.match((await page.getByTestId('customer-orders-value').textContent()) ?? '', /^3$/);
    assert.match((await page.getByTestId('customer-spent-value').textContent()) ?? '', /252\.00 EUR/);
    assert.match((await page.getByTestId('customer-refunded-value').textContent()) ?? '', /210\.00 EUR/);
    // Activity, newest first.
    const activity = page.getByTestId('activity-item');
    assert.equal(await activity.count(), 9);
    assert.match((await activity.first().textContent()) ?? '', /search.*\/search/);
    // A hostile product id is inert text.
    await page.locator('[data-order-id="ORD-2"]').getByText(XSS_PRODUCT, { exact: true }).waitFor();
    assert.equal(await page.evaluate(() => (window as { __xss?: number }).__xss), undefined);
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    // The URL names the customer, so a reload shows the same page.
    assert.match(page.url(), /\/customers\?.*user=cust-1/);
    await page.screenshot({ path: new URL('customers-light.png', ARTIFACTS).pathname, fullPage: true });
    await page.getByTestId('theme-toggle').click();
    await page.waitForFunction(() => document.documentElement.dataset.theme === 'dark');
    await page.screenshot({ path: new URL('customers-dark.png', ARTIFACTS).pathname, fullPage: true });

    // Paging: 20 orders, then the rest on request.
    await page.getByLabel('User or visitor id').fill('whale');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('[data-order-id="W-24"]').waitFor();
    assert.equal(await orders.count(), 20);
    await page.getByTestId('orders-more').click();
    await eventually(async () => (await orders.count()) === 25, 5000, 100);
    assert.equal(await page.getByTestId('orders-more').count(), 0);
    assert.equal(await orders.last().getAttribute('data-order-id'), 'W-00');

    await page.getByLabel('User or visitor id').fill('nobody-at-all');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByTestId('customer-none').waitFor();
    assert.deepEqual(problems, [], 'no page errors, console errors or dialogs');
    await context.close();
  });

  test('fits a phone screen in both themes', { timeout: 60_000 }, async () => {
    for (const theme of ['light', 'dark']) {
      const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
      await context.addInitScript((t) => localStorage.setItem('storepulse.theme', t), theme);
      const page = await signIn(context, ANALYST, '/customers?user=cust-1');
      await page.goto(`${server.url}/customers?site=default&user=cust-1`);
      await page.locator('[data-order-id="ORD-1"]').waitFor();
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `no sideways scrolling (${overflow}px too wide)`);
      await page.screenshot({
        path: new URL(`customers-phone-${theme}.png`, ARTIFACTS).pathname,
        fullPage: true,
      });
      await context.close();
    }
  });

  test('a viewer is not offered the page, and the API refuses them', { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await signIn(context, VIEWER);
    assert.equal(await page.getByRole('link', { name: 'Customers' }).count(), 0);
    await page.goto(`${server.url}/customers?user=cust-1`);
    await page.getByTestId('live-page').waitFor();
    const status = await page.evaluate(
      async () =>
        (await fetch('/api/v1/sites/default/users/cust-1/orders', { credentials: 'same-origin' })).status,
    );
    assert.equal(status, 403);
    await context.close();
  });
});
