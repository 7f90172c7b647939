import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../testing/browser.js';
import { eventually, runCli, type ServerProcess, sql, startServer } from '../testing/server-process.js';

// sp.js in Debian's Chromium, on a shop page served from another origin than storepulse.
const skip = chromiumMissing();
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);
// A desktop Chrome as real shoppers send it (the default headless UA says HeadlessChrome).
const DESKTOP_CHROME =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

/**
 * The product page a shop would serve: stub, async tag, a view on load, cart and purchase buttons.
 * `?user=` identifies the shopper before sp.js loads; `?cookies=1` and `?dnt=1` set the opt-in attributes.
 */
function shopPage(server: ServerProcess, product: string, q: URLSearchParams): string {
  const user = q.get('user');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Product ${product}</title>
<script>window.storepulse=window.storepulse||function(){(storepulse.q=storepulse.q||[]).push(arguments)};</script>
<script async src="${server.url}/sp.js" data-key="${server.writeKey}"
  ${q.has('cookies') ? 'data-cookies="true"' : ''} ${q.has('dnt') ? 'data-respect-dnt="true"' : ''}></script>
<script>
  ${user ? `storepulse('identify', '${user}');` : ''}
  storepulse('track', 'view', {product_id: '${product}', price: 10, color: 'red'});
</script>
</head><body style="font-family:sans-serif">
<h1>Product ${product}</h1><p>10.00 EUR</p>
<button id="cart" onclick="storepulse('track', 'cart', {product_id: '${product}', price: 10, quantity: 2})">Add to cart</button>
<button id="buy" onclick="storepulse('track', 'purchase', {order_id: 'o-${product}', revenue: 20, product_id: '${product}',
  price: 10, quantity: 2, currency: 'EUR', coupon: 'WELCOME'}); history.pushState({}, '', '/thanks?utm_source=mail')">Buy</button>
</body></html>`;
}

function startShop(server: ServerProcess): Promise<{ http: Server; origin: string }> {
  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://shop');
    const product = /^\/products\/([\w-]+)$/.exec(url.pathname)?.[1];
    if (!product) return void res.writeHead(404).end();
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(shopPage(server, product, url.searchParams));
  });
  return new Promise((resolve) =>
    http.listen(0, '127.0.0.1', () =>
      resolve({ http, origin: `http://127.0.0.1:${(http.address() as AddressInfo).port}` }),
    ),
  );
}

const loaded = () => (window as { storepulse?: { loaded?: boolean } }).storepulse?.loaded;

const rowsOf = (server: ServerProcess, where: string) =>
  sql(
    server,
    `SELECT event_id, event_type, event_name, source, product_id, price, quantity, currency, order_id, revenue,
       user_id, user_session, visitor_id, url, path, referrer, utm_source, browser, device_type, is_bot, props
     FROM events WHERE site_id = 'default' AND ${where} ORDER BY event_time, event_type`,
  );

describe('sp.js tracker in Chromium', { skip }, () => {
  let server: ServerProcess;
  let browser: Browser;
  let shop: { http: Server; origin: string };

  before(async () => {
    [server, browser] = await Promise.all([startServer(), launchChromium()]);
    shop = await startShop(server);
  });

  after(async () => {
    await browser?.close();
    shop?.http.close();
    await server?.stop();
    server?.cleanup();
  });

  test('page views, product view, cart and purchase reach the lake once each', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'warning' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    const posts: number[] = [];
    page.on('response', (r) => r.url().includes('/api/v1/events') && posts.push(r.status()));

    await page.goto(`${shop.origin}/products/p1?user=u-42`);
    await page.waitForFunction(loaded);
    await page.click('#cart');
    await page.click('#buy');
    await page.waitForURL('**/thanks?utm_source=mail');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('tracker-e2e.png', ARTIFACTS).pathname });

    let rows: Record<string, unknown>[] = [];
    await eventually(async () => {
      rows = await rowsOf(server, `url LIKE '${shop.origin}/%'`);
      return rows.length >= 6;
    });
    const visitorStored = await page.evaluate(() => localStorage.getItem('sp_visitor'));
    await page.close();
    assert.deepEqual(problems, [], 'the tracker logged no warnings or errors');
    assert.ok(posts.length > 0 && posts.every((s) => s === 200), `event POSTs answered 200: ${posts}`);

    const byType = (t: string) => rows.filter((r) => r.event_type === t);
    const views = byType('page_view');
    assert.deepEqual(
      views.map((r) => r.path),
      ['/products/p1', '/thanks'],
      'a page view on load and one on pushState',
    );
    assert.equal(views[1].utm_source, 'mail');
    assert.equal(
      views[1].referrer,
      `${shop.origin}/products/p1?user=u-42`,
      'SPA navigation refers to the previous page',
    );

    const [view] = byType('view');
    assert.equal(view.product_id, 'p1');
    assert.equal(view.price, 10);
    assert.deepEqual(JSON.parse(String(view.props)), { color: 'red' }, 'unknown fields travel in props');
    const [cart] = byType('cart');
    assert.equal(cart.product_id, 'p1');
    assert.equal(cart.quantity, 2);
    const [purchase] = byType('purchase');
    assert.equal(purchase.order_id, 'o-p1');
    assert.equal(purchase.revenue, 20);
    assert.equal(purchase.currency, 'EUR');
    assert.deepEqual(JSON.parse(String(purchase.props)), { coupon: 'WELCOME' });
    assert.equal(byType('identify').length, 1);
    assert.equal(rows.length, 6, `exactly six events: ${rows.map((r) => r.event_type)}`);

    for (const r of rows) {
      assert.equal(r.source, 'js');
      // ua-parser-js names the default headless UA "Chrome Headless"; isbot counts HeadlessChrome as a bot.
      assert.equal(r.browser, 'Chrome Headless');
      assert.equal(r.is_bot, true);
      assert.equal(r.device_type, 'bot');
      assert.match(String(r.event_id), /^[0-9a-f-]{36}$/, 'the tracker sets the event id');
      // identify was queued before sp.js loaded, so even the first page view carries the user.
      assert.equal(r.user_id, 'u-42', `${r.event_type} has the user id`);
      assert.match(String(r.visitor_id), /^[0-9a-f]{24}$/, "without data-cookies the server's cookieless id");
    }
    assert.equal(visitorStored, null, 'nothing stored about the visitor without data-cookies');
    assert.equal(new Set(rows.map((r) => r.user_session)).size, 1, 'one session across the visit');

    const [dupes] = await sql(
      server,
      "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM events WHERE site_id = 'default'",
    );
    assert.equal(Number(dupes.n), Number(dupes.ids), 'no event stored twice');
  });

  test('an event tracked just before the tab closes is still delivered', async () => {
    const context = await browser.newContext({ userAgent: DESKTOP_CHROME });
    const page = await context.newPage();
    await page.goto(`${shop.origin}/products/p2?cookies=1`);
    await page.waitForFunction(loaded);
    const visitor = await page.evaluate(() => localStorage.getItem('sp_visitor'));
    // The batch timer (1 s) has not fired yet: only the pagehide flush can send this.
    await page.evaluate(() =>
      (window as unknown as { storepulse: (...a: unknown[]) => void }).storepulse('track', 'wishlist_add', {
        product_id: 'p2',
      }),
    );
    await page.close({ runBeforeUnload: true });
    await context.close();

    let rows: Record<string, unknown>[] = [];
    await eventually(async () => {
      rows = await rowsOf(server, "product_id = 'p2' OR path = '/products/p2'");
      return rows.some((r) => r.event_type === 'wishlist_add');
    });
    const wish = rows.find((r) => r.event_type === 'wishlist_add')!;
    assert.equal(wish.source, 'js');
    assert.equal(wish.browser, 'Chrome', 'a regular Chrome UA is parsed as Chrome');
    assert.equal(wish.is_bot, false);
    assert.equal(wish.device_type, 'desktop');
    assert.match(String(visitor), /^[0-9a-f-]{36}$/);
    assert.equal(wish.visitor_id, visitor, 'with data-cookies="true" the visitor id comes from localStorage');
  });

  test('with data-respect-dnt="true", a Do Not Track browser sends nothing', async () => {
    const context = await browser.newContext();
    // Source text, not a function: tsx would wrap the getter in a helper the page does not have.
    await context.addInitScript({
      content: "Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' });",
    });
    const requests: string[] = [];
    context.on('request', (r) => r.url().includes('/api/v1/events') && requests.push(r.url()));
    const page = await context.newPage();
    await page.goto(`${shop.origin}/products/p7?dnt=1`);
    await page.waitForFunction(loaded);
    await page.click('#cart');
    await new Promise((r) => setTimeout(r, 1500)); // past the 1 s batch delay
    await page.close({ runBeforeUnload: true });
    await context.close();
    assert.deepEqual(requests, []);
  });

  /** A context whose sendBeacon is refused (as when its quota is used up), so sp.js must use fetch. */
  async function noBeaconContext() {
    const context = await browser.newContext();
    await context.addInitScript({ content: 'navigator.sendBeacon = () => false;' });
    return context;
  }

  test('a batch whose answer was lost is retried and stored once', async () => {
    const context = await noBeaconContext();
    const answers: { accepted: number; duplicates: number }[] = [];
    await context.route('**/api/v1/events?**', async (route) => {
      const response = await route.fetch();
      answers.push(JSON.parse(await response.text()));
      // The first time storepulse stores the batch but the browser sees a 503 (a proxy hiccup): it must resend.
      if (answers.length > 1) return route.fulfill({ response });
      return route.fulfill({
        status: 503,
        headers: { 'access-control-allow-origin': '*' },
        body: '{"error":"retry"}',
      });
    });
    const page = await context.newPage();
    await page.goto(`${shop.origin}/products/p4`);
    await eventually(async () => answers.length >= 2);
    await context.close();
    assert.deepEqual(answers.slice(0, 2), [
      { accepted: 2, duplicates: 0, rejected: [] },
      { accepted: 2, duplicates: 2, rejected: [] },
    ]);

    let rows: Record<string, unknown>[] = [];
    await eventually(async () => {
      rows = await rowsOf(server, "path = '/products/p4'");
      return rows.length >= 2;
    });
    assert.deepEqual(rows.map((r) => r.event_type).sort(), ['page_view', 'view'], 'each event once');
  });

  test('events that could not be sent are delivered on the next page load', async () => {
    const offline = await noBeaconContext();
    await offline.route('**/api/v1/events?**', (route) => route.abort('internetdisconnected'));
    const page = await offline.newPage();
    await page.goto(`${shop.origin}/products/p5`);
    await page.waitForFunction(() => JSON.parse(localStorage.getItem('sp_outbox') ?? '[]').length >= 2);
    const saved = await offline.storageState();
    await offline.close();

    // The shopper comes back later: same localStorage, network fine, sendBeacon working.
    const online = await browser.newContext({ storageState: saved });
    const next = await online.newPage();
    await next.goto(`${shop.origin}/products/p6`);
    let rows: Record<string, unknown>[] = [];
    await eventually(async () => {
      rows = await rowsOf(server, "path = '/products/p5'");
      return rows.length >= 2;
    });
    assert.equal(await next.evaluate(() => localStorage.getItem('sp_outbox')), null, 'the outbox is emptied');
    await online.close();
    assert.deepEqual(rows.map((r) => r.event_type).sort(), ['page_view', 'view']);
    assert.ok(rows.find((r) => r.event_type === 'view')?.product_id === 'p5');
  });

  test("a browser origin outside the site's allow-list is refused with 403", async () => {
    const added = await runCli(['sites', 'add', 'shop2', '--origin', 'http://allowed.example'], {
      dataDir: server.dataDir,
    });
    assert.equal(added.code, 0, added.stderr);
    const key = /write key:\s+(\S+)/.exec(added.stdout)?.[1];
    assert.ok(key, added.stdout);

    const page = await browser.newPage();
    await page.goto(`${shop.origin}/products/p3`);
    const answer = await page.evaluate(
      async ({ url, key }) => {
        const res = await fetch(`${url}/api/v1/events?k=${key}&src=js`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
          body: JSON.stringify({ type: 'page_view', url: location.href }),
        });
        return { status: res.status, body: await res.text() };
      },
      { url: server.url, key },
    );
    await page.close();
    assert.equal(answer.status, 403);
    assert.match(answer.body, new RegExp(`origin ${shop.origin} is not allowed for site shop2`));

    // The same key from the allowed origin is accepted, so the 403 above is about the origin.
    const allowed = await fetch(`${server.url}/api/v1/events?k=${key}`, {
      method: 'POST',
      headers: { origin: 'http://allowed.example', 'content-type': 'text/plain' },
      body: JSON.stringify({ type: 'page_view', url: 'http://allowed.example/' }),
    });
    assert.equal(allowed.status, 200);
  });
});
