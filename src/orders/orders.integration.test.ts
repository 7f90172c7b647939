import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { CHROME_UA } from '../testing/ingest-context.js';
import {
  eventually,
  postEvents,
  runCli,
  type ServerProcess,
  sql,
  startServer,
} from '../testing/server-process.js';
import type { CustomerSummary, Order, OrderPage } from './order-model.js';

const CSV = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-data', 'rees46_sample.csv');

/**
 * The order history against a real server: orders over HTTP come back newest first in pages;
 * kill -9 during traffic loses or doubles no order (checked against the lake, which is exactly
 * once); imported REES46 history is found after `storepulse orders rebuild`.
 */
describe('order history API', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer({ env: { STOREPULSE_QUERY__MAX_ROWS: '100000' } });
  });
  after(() => server?.cleanup());

  const get = async <T>(path: string, auth = true) => {
    const res = await fetch(`${server.url}${path}`, {
      headers: auth ? { authorization: `Bearer ${server.apiKey}` } : {},
    });
    return { status: res.status, body: (await res.json()) as T & { error?: string } };
  };
  const allOrders = async (user: string) => {
    const orders: Order[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const r = await get<OrderPage>(
        `/api/v1/sites/default/users/${encodeURIComponent(user)}/orders?limit=100${q}`,
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      orders.push(...r.body.orders);
      cursor = r.body.nextCursor;
    } while (cursor);
    return orders;
  };
  const post = async (events: unknown[]) => {
    const r = await postEvents(server, { events }, { 'user-agent': CHROME_UA });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  };

  it('answers orders newest first, in pages, with lines and refund status', { timeout: 60_000 }, async () => {
    const t0 = Date.now() - 3_600_000;
    const events = [];
    for (let i = 0; i < 12; i++) {
      for (let line = 0; line <= i % 3; line++) {
        events.push({
          type: 'purchase',
          event_id: `alice-${i}-${line}`,
          time: t0 + i * 60_000,
          user_id: 'alice',
          order_id: `A${i}`,
          product_id: `p${line}`,
          price: 10 + line,
          quantity: 1,
          currency: 'EUR',
        });
      }
    }
    events.push({
      type: 'refund',
      time: t0 + 20 * 60_000,
      user_id: 'alice',
      order_id: 'A2',
      product_id: 'p1',
    });
    events.push({ type: 'refund', time: t0 + 21 * 60_000, user_id: 'alice', order_id: 'A5', revenue: -33 });
    events.push({
      type: 'purchase',
      time: t0,
      visitor_id: 'anon-42',
      order_id: 'B1',
      product_id: 'p9',
      price: 7,
    });
    events.push({
      type: 'view',
      time: t0 + 22 * 60_000,
      user_id: 'alice',
      product_id: 'p7',
      url: 'https://shop.example/p7',
    });
    await post(events);

    await eventually(async () => (await allOrders('alice')).length === 12);
    const pages: Order[][] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : '';
      const r = await get<OrderPage>(`/api/v1/sites/default/users/alice/orders?limit=5${q}`);
      pages.push(r.body.orders);
      cursor = r.body.nextCursor;
    } while (cursor);
    assert.deepEqual(
      pages.map((p) => p.length),
      [5, 5, 2],
    );
    const orders = pages.flat();
    assert.deepEqual(
      orders.map((o) => o.orderId),
      Array.from({ length: 12 }, (_, i) => `A${11 - i}`),
    );
    const byId = Object.fromEntries(orders.map((o) => [o.orderId, o]));
    assert.equal(byId.A2.lines.length, 4, 'three purchase lines and a refund line');
    assert.equal(byId.A2.total, 33);
    assert.equal(byId.A2.status, 'partially_refunded');
    assert.equal(byId.A2.refunded, 11);
    assert.equal(byId.A5.status, 'refunded');
    assert.equal(byId.A0.status, 'purchased');

    // The path, with the site implied while there is one.
    const alias = await get<OrderPage>('/api/v1/users/alice/orders?limit=3');
    assert.deepEqual(
      alias.body.orders.map((o) => o.orderId),
      ['A11', 'A10', 'A9'],
    );
    // An anonymous purchase is found by its visitor id.
    assert.deepEqual(
      (await allOrders('anon-42')).map((o) => o.orderId),
      ['B1'],
    );

    const summary = await get<CustomerSummary>('/api/v1/sites/default/users/alice');
    assert.equal(summary.status, 200);
    assert.equal(summary.body.orders, 12);
    assert.equal(summary.body.kind, 'user');
    assert.equal(summary.body.activity[0].type, 'view');
    assert.equal(summary.body.activity[0].path, '/p7');

    assert.equal((await get('/api/v1/sites/default/users/alice/orders', false)).status, 401);
    assert.equal((await get('/api/v1/sites/default/users/alice/orders?limit=500')).status, 400);
    assert.equal((await get('/api/v1/sites/default/users/alice/orders?cursor=zzz')).status, 400);
    assert.equal((await get('/api/v1/sites/nope/users/alice/orders')).status, 404);
    assert.equal((await get('/api/v1/sites/default/users/nobody')).status, 404);
  });

  it('loses and doubles no order when the server is killed -9 during traffic', {
    timeout: 180_000,
  }, async () => {
    let sending = true;
    let n = 0;
    const sender = async (worker: number) => {
      while (sending) {
        const k = n++;
        const user = `crash-u${k % 5}`;
        const order = `C${worker}-${k}`;
        const events: Record<string, unknown>[] = Array.from({ length: 1 + (k % 3) }, (_, line) => ({
          type: 'purchase',
          event_id: `${order}-${line}`,
          user_id: user,
          order_id: order,
          product_id: `p${line}`,
          price: 5 + line,
        }));
        if (k % 4 === 3)
          events.push({
            type: 'refund',
            event_id: `${order}-r`,
            user_id: user,
            order_id: order,
            product_id: 'p0',
          });
        const body = JSON.stringify({ events });
        for (;;) {
          try {
            const res = await fetch(`${server.url}/api/v1/events`, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                authorization: `Bearer ${server.writeKey}`,
                'user-agent': CHROME_UA,
              },
              body,
              signal: AbortSignal.timeout(5000),
            });
            if (res.status === 200) break;
          } catch {}
          if (!sending) return; // unacknowledged: it may or may not be stored, both sides count what is
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const senders = [0, 1, 2].map(sender);
    for (let k = 0; k < 2; k++) {
      await new Promise((r) => setTimeout(r, 2000 + Math.random() * 1000));
      await server.kill9();
      await server.restart();
    }
    await new Promise((r) => setTimeout(r, 1000));
    sending = false;
    await Promise.all(senders);

    const fromLake = async () => {
      const rows = await sql(
        server,
        `select user_id, order_id, count(*) filter (where event_type = 'purchase') as lines,
                sum(revenue) filter (where event_type = 'purchase') as total, count(*) filter (where event_type = 'refund') as refunds
           from events where user_id like 'crash-%' group by 1, 2`,
      );
      return rows.map((r) => `${r.user_id} ${r.order_id} ${r.lines} ${Number(r.total)} ${r.refunds}`).sort();
    };
    const fromApi = async () => {
      const out: string[] = [];
      for (let u = 0; u < 5; u++) {
        for (const o of await allOrders(`crash-u${u}`)) {
          const refunds = o.lines.filter((l) => l.kind === 'refund').length;
          out.push(`crash-u${u} ${o.orderId} ${o.lines.length - refunds} ${o.total} ${refunds}`);
        }
      }
      return out.sort();
    };
    let lake: string[] = [];
    let api: string[] = [];
    await eventually(
      async () => {
        [lake, api] = await Promise.all([fromLake(), fromApi()]);
        return lake.length > 0 && lake.join('\n') === api.join('\n');
      },
      30_000,
      500,
    ).catch(() => {});
    assert.ok(lake.length > 30, `enough orders to matter (${lake.length})`);
    assert.deepEqual(api, lake);
    const [{ n: rows, d }] = await sql(
      server,
      "select count(*) as n, count(distinct event_id) as d from events where user_id like 'crash-%'",
    );
    assert.equal(rows, d, 'no duplicates in the lake either');
  });

  it('finds imported REES46 history after `storepulse orders rebuild`', { timeout: 120_000 }, async () => {
    const imported = await runCli(['import', CSV, '--no-progress'], { dataDir: server.dataDir });
    assert.equal(imported.code, 0, imported.stderr);
    // The server keeps running: the rebuild merges by event id.
    const rebuilt = await runCli(['orders', 'rebuild', '--no-progress'], { dataDir: server.dataDir });
    assert.equal(rebuilt.code, 0, rebuilt.stderr);

    // Purchases per user and first event per user, counted by hand over the CSV itself.
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    const csv = `read_csv('${CSV}', header = true, all_varchar = true)`;
    const expected = (
      await conn.runAndReadAll(
        `select user_id, count(*) filter (where event_type = 'purchase')::INT as purchases,
                epoch_ms(min(strptime(event_time, '%Y-%m-%d %H:%M:%S UTC')))::DOUBLE as first
           from ${csv} group by user_id having purchases > 0 order by user_id`,
      )
    ).getRowsJS() as [string, number, number][];
    conn.closeSync();
    duck.closeSync();
    assert.ok(expected.length >= 5, 'the sample has buyers');

    for (const [user, purchases, first] of expected) {
      const summary = await get<CustomerSummary>(`/api/v1/sites/default/users/${user}`);
      assert.equal(summary.status, 200, JSON.stringify(summary.body));
      assert.equal(summary.body.orders, purchases, `orders of ${user}`);
      assert.equal(summary.body.firstSeen, first, `first seen of ${user}`);
      const orders = await allOrders(user);
      assert.equal(orders.length, purchases);
      assert.ok(orders.every((o) => o.lines.length === 1 && o.status === 'purchased'));
    }
    // Nobody without a purchase has orders, and a second rebuild adds nothing.
    const [{ buyers }] = await sql(
      server,
      "select count(distinct user_id) as buyers from events where source = 'import' and event_type = 'purchase'",
    );
    assert.equal(buyers, expected.length);
    const again = await runCli(['orders', 'rebuild', '--no-progress'], { dataDir: server.dataDir });
    assert.match(again.stdout, /\(0 new order lines\)/);
  });
});
