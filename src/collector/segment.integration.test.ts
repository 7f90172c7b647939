import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Analytics } from '@segment/analytics-node';
import { eventually, type ServerProcess, sql, startServer } from '../testing/server-process.js';

// Segment's own Node SDK, unchanged, pointed at storepulse instead of api.segment.io.
function segmentClient(server: ServerProcess, writeKey: string) {
  const analytics = new Analytics({
    writeKey,
    host: server.url,
    path: '/v1/batch',
    flushAt: 5,
    flushInterval: 200,
    maxRetries: 1,
  });
  const errors: unknown[] = [];
  const statuses: number[] = [];
  analytics.on('error', (err) => errors.push(err));
  analytics.on('http_response', (r) => statuses.push(r.status));
  return { analytics, errors, statuses };
}

describe('Segment analytics-node → storepulse', () => {
  let server: ServerProcess;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server?.stop();
    server?.cleanup();
  });

  test('identify, page and the e-commerce spec land as canonical events', async () => {
    const { analytics, errors, statuses } = segmentClient(server, server.writeKey);
    const who = { userId: 'u-1', anonymousId: 'anon-1' };
    const shoe = { product_id: 'p1', sku: 'SKU-1', price: 10, brand: 'Acme', category: 'Shoes' };
    analytics.identify({ ...who, traits: { email: 'ada@example.com', plan: 'gold' } });
    analytics.page({
      ...who,
      name: 'Home',
      properties: { url: 'https://shop.example/home?utm_source=mail', path: '/home', title: 'Home' },
    });
    analytics.track({ ...who, event: 'Product Viewed', properties: shoe });
    analytics.track({ ...who, event: 'Product Added', properties: { ...shoe, quantity: 2, cart_id: 'c-1' } });
    analytics.track({
      ...who,
      event: 'Order Completed',
      properties: {
        order_id: 'o-100',
        revenue: 25,
        currency: 'EUR',
        coupon: 'WELCOME',
        products: [
          { ...shoe, quantity: 2 },
          { product_id: 'p2', price: 5, quantity: 1 },
        ],
      },
    });
    analytics.track({
      ...who,
      event: 'Order Refunded',
      properties: {
        order_id: 'o-100',
        currency: 'EUR',
        products: [{ product_id: 'p2', price: 5, quantity: 1 }],
      },
    });
    await analytics.closeAndFlush();
    assert.deepEqual(errors, [], 'the SDK reported no errors');
    assert.ok(statuses.length >= 2 && statuses.every((s) => s === 200), `batches answered 200: ${statuses}`);

    let rows: Record<string, unknown>[] = [];
    await eventually(async () => {
      rows = await sql(
        server,
        `SELECT event_id, event_type, event_name, source, user_id, visitor_id, product_id, brand, category_code,
           price, quantity, currency, order_id, revenue, path, utm_source, props
         FROM events WHERE site_id = 'default' AND visitor_id = 'anon-1' ORDER BY event_time, event_id`,
      );
      return rows.length >= 7;
    });

    const types = rows.map((r) => r.event_type);
    assert.deepEqual(
      [...types].sort(),
      ['cart', 'identify', 'page_view', 'purchase', 'purchase', 'refund', 'view'],
      `one row per call, one per product for orders: ${types}`,
    );
    for (const r of rows) {
      assert.equal(r.source, 'segment');
      assert.equal(r.user_id, 'u-1');
      assert.equal(r.visitor_id, 'anon-1', 'anonymousId is the visitor');
    }
    assert.equal(new Set(rows.map((r) => r.event_id)).size, rows.length, 'no event stored twice');

    const one = (t: string) => rows.find((r) => r.event_type === t)!;
    assert.deepEqual(JSON.parse(String(one('identify').props)), {
      traits: { email: 'ada@example.com', plan: 'gold' },
    });
    assert.equal(one('page_view').event_name, 'Home');
    assert.equal(one('page_view').path, '/home');
    assert.equal(one('page_view').utm_source, 'mail');

    const view = one('view');
    assert.equal(view.event_name, 'Product Viewed');
    assert.deepEqual(
      [view.product_id, view.price, view.brand, view.category_code],
      ['p1', 10, 'acme', 'shoes'],
    );
    assert.deepEqual([one('cart').product_id, one('cart').quantity], ['p1', 2]);
    assert.deepEqual(JSON.parse(String(one('cart').props)), { cart_id: 'c-1' });

    const purchases = rows
      .filter((r) => r.event_type === 'purchase')
      .map((r) => [r.order_id, r.product_id, r.price, r.quantity, r.revenue, r.currency]);
    assert.deepEqual(purchases.sort(), [
      ['o-100', 'p1', 10, 2, 20, 'EUR'],
      ['o-100', 'p2', 5, 1, 5, 'EUR'],
    ]);
    const refund = one('refund');
    assert.deepEqual([refund.order_id, refund.product_id, refund.revenue], ['o-100', 'p2', -5]);

    const [order] = await sql(
      server,
      "SELECT sum(revenue) AS net FROM events WHERE site_id = 'default' AND order_id = 'o-100'",
    );
    assert.equal(Number(order.net), 20, 'net order revenue after the refund');
  });

  test("analytics.js's one-letter paths and text/plain bodies carrying the write key", async () => {
    // What the browser SDK sends: no Authorization header, the key in the body, text/plain to skip preflight.
    const post = (path: string, body: object) =>
      fetch(`${server.url}/v1/${path}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', origin: 'https://shop.example' },
        body: JSON.stringify({ ...body, writeKey: server.writeKey }),
      });
    const page = {
      type: 'page',
      anonymousId: 'anon-ajs',
      messageId: 'ajs-page-1',
      timestamp: new Date().toISOString(),
      context: { page: { url: 'https://shop.example/shoes?utm_source=ads' } },
      properties: {},
    };
    const click = {
      type: 'track',
      event: 'Product Clicked',
      anonymousId: 'anon-ajs',
      messageId: 'ajs-track-1',
      properties: { product_id: 'p3', price: 7 },
    };
    assert.equal((await post('p', page)).status, 200);
    assert.equal((await post('t', click)).status, 200);
    assert.equal((await post('b', { batch: [{ ...click, messageId: 'ajs-track-2' }] })).status, 200);

    let rows: Record<string, unknown>[] = [];
    await eventually(async () => {
      rows = await sql(
        server,
        "SELECT event_type, source, product_id, path, utm_source FROM events WHERE visitor_id = 'anon-ajs' ORDER BY event_id",
      );
      return rows.length >= 3;
    });
    assert.deepEqual(
      rows.map((r) => [r.event_type, r.source, r.product_id, r.path, r.utm_source]),
      [
        ['page_view', 'segment', null, '/shoes', 'ads'],
        ['product_click', 'segment', 'p3', null, null],
        ['product_click', 'segment', 'p3', null, null],
      ],
    );
  });

  test('a wrong write key is refused with 401 and the SDK reports it', async () => {
    const { analytics, errors, statuses } = segmentClient(server, 'sp_wk_not-a-key');
    analytics.track({ userId: 'u-2', event: 'Product Viewed', properties: { product_id: 'p9' } });
    await analytics.closeAndFlush();
    assert.deepEqual(statuses, [401], 'refused at once, not retried');
    assert.equal(errors.length, 1);
    assert.match(String((errors[0] as { reason?: unknown }).reason), /401/);

    // What a Segment HTTP API user sees: Basic auth with the key as user name.
    const res = await fetch(`${server.url}/v1/track`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from('sp_wk_not-a-key:').toString('base64')}`,
      },
      body: JSON.stringify({ userId: 'u-2', event: 'Product Viewed', properties: { product_id: 'p9' } }),
    });
    assert.equal(res.status, 401);
    assert.match(((await res.json()) as { error: string }).error, /unknown write key/);
  });
});
