import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BOT_UA, T0, testEvent } from '../realtime/test-events.js';
import { OrderStore } from './order-store.js';

const MIN = 60_000;

describe('order store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-orders-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const fresh = (activityCap?: number) => new OrderStore(join(dir, `orders-${n++}.sqlite`), { activityCap });
  const line = (
    order: string,
    product: string,
    price: number,
    quantity: number,
    minute: number,
    user = 'u1',
  ) =>
    testEvent({
      type: 'purchase',
      time: T0 + minute * MIN,
      visitor: `v-${user}`,
      user_id: user,
      order_id: order,
      product_id: product,
      price,
      quantity,
      currency: 'EUR',
    });

  it('keeps an order sent as one purchase event per line, with its lines and total', () => {
    const store = fresh();
    store.apply([line('o1', 'lamp', 30, 1, 0), line('o1', 'bulb', 2.5, 4, 0), line('o1', 'shade', 12, 1, 1)]);
    const page = store.orders('shop', 'u1', { limit: 10 })!;
    assert.equal(page.orders.length, 1);
    const [o] = page.orders;
    assert.equal(o.orderId, 'o1');
    assert.equal(o.total, 52);
    assert.equal(o.items, 6);
    assert.equal(o.currency, 'EUR');
    assert.equal(o.status, 'purchased');
    assert.equal(o.time, T0, 'an order is dated by its first line');
    // Lines of one instant come in event-id order; compare them as a set.
    assert.deepEqual(o.lines.map((l) => [l.kind, l.productId, l.amount]).sort(), [
      ['purchase', 'bulb', 10],
      ['purchase', 'lamp', 30],
      ['purchase', 'shade', 12],
    ]);
    const c = store.customer('shop', 'u1')!;
    assert.equal(c.orders, 1);
    assert.equal(c.spent, 52);
    assert.equal(c.kind, 'user');
    store.close();
  });

  it('marks orders partially refunded and refunded, whatever form the refund takes', () => {
    const store = fresh();
    store.apply([
      line('o1', 'lamp', 30, 1, 0),
      line('o1', 'bulb', 2.5, 4, 0),
      line('o2', 'desk', 200, 1, 5),
      line('o3', 'chair', 80, 1, 6),
    ]);
    const refund = (order: string, minute: number, fields: Record<string, unknown>) =>
      testEvent({
        type: 'refund',
        time: T0 + minute * MIN,
        visitor: 'v-u1',
        user_id: 'u1',
        order_id: order,
        ...fields,
      });
    // A product named without an amount gives back what its lines cost.
    store.apply([refund('o1', 10, { product_id: 'lamp' })]);
    // Segment sends refunds with negative revenue.
    store.apply([refund('o2', 11, { revenue: -200 })]);
    // No product, no amount: the whole order.
    store.apply([refund('o3', 12, {})]);
    const byId = Object.fromEntries(
      store.orders('shop', 'u1', { limit: 10 })!.orders.map((o) => [o.orderId, o]),
    );
    assert.equal(byId.o1.status, 'partially_refunded');
    assert.equal(byId.o1.refunded, 30);
    assert.equal(byId.o1.lines.at(-1)?.kind, 'refund');
    assert.equal(byId.o2.status, 'refunded');
    assert.equal(byId.o3.status, 'refunded');
    assert.equal(byId.o3.refunded, 80);
    const c = store.customer('shop', 'u1')!;
    assert.equal(c.spent, 320);
    assert.equal(c.refunded, 310);
    assert.equal(c.net, 10);
    store.close();
  });

  it('settles a refund that arrives before its purchase', () => {
    const store = fresh();
    store.apply([
      testEvent({ type: 'refund', time: T0 + 2 * MIN, visitor: 'v-u1', user_id: 'u1', order_id: 'late' }),
    ]);
    store.apply([line('late', 'lamp', 30, 1, 0), line('late', 'bulb', 5, 1, 0)]);
    const [o] = store.orders('shop', 'u1', { limit: 10 })!.orders;
    assert.equal(o.status, 'refunded');
    assert.equal(o.total, 35);
    assert.equal(o.refunded, 35);
    assert.equal(o.time, T0, 'dated by the purchase once it arrives');
    assert.equal(store.customer('shop', 'u1')!.refunded, 35);
    store.close();
  });

  it('counts nothing twice when events are delivered again', () => {
    const store = fresh();
    const events = [
      line('o1', 'lamp', 30, 1, 0),
      line('o1', 'bulb', 2.5, 4, 0),
      testEvent({
        type: 'refund',
        time: T0 + MIN,
        visitor: 'v-u1',
        user_id: 'u1',
        order_id: 'o1',
        product_id: 'bulb',
      }),
      testEvent({ type: 'view', time: T0 + 2 * MIN, visitor: 'v-u1', user_id: 'u1', product_id: 'lamp' }),
    ];
    const first = store.apply(events);
    const before = {
      page: store.orders('shop', 'u1', { limit: 10 }),
      customer: store.customer('shop', 'u1'),
    };
    const again = store.apply(events);
    store.apply([events[1], events[0]]);
    assert.deepEqual(first, { lines: 3, activity: 4 });
    assert.deepEqual(again, { lines: 0, activity: 0 });
    assert.deepEqual(store.orders('shop', 'u1', { limit: 10 }), before.page);
    assert.deepEqual(store.customer('shop', 'u1'), before.customer);
    assert.equal(before.page!.orders[0].refunded, 10);
    store.close();
  });

  it('files an anonymous purchase under its visitor id, and one without an order id as its own order', () => {
    const store = fresh();
    store.apply([
      testEvent({ type: 'purchase', time: T0, visitor: 'anon-7', order_id: 'a1', product_id: 'p', price: 9 }),
      testEvent({ type: 'purchase', time: T0 + MIN, visitor: 'anon-7', product_id: 'q', price: 4 }),
    ]);
    const page = store.orders('shop', 'anon-7', { limit: 10 })!;
    assert.deepEqual(
      page.orders.map((o) => [o.userId, o.visitorId, o.total]),
      [
        [null, 'anon-7', 4],
        [null, 'anon-7', 9],
      ],
    );
    assert.notEqual(page.orders[0].orderId, 'a1', 'named by its event id');
    assert.equal(store.customer('shop', 'anon-7')!.kind, 'visitor');
    store.close();
  });

  it('pages newest first with a cursor, without gaps or repeats', () => {
    const store = fresh();
    // Two orders share a minute: the order id breaks the tie.
    store.apply(
      Array.from({ length: 25 }, (_, i) =>
        line(`o${String(i).padStart(2, '0')}`, 'p', 1, 1, Math.floor(i / 2)),
      ),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: ReturnType<OrderStore['orders']> = store.orders('shop', 'u1', { limit: 10, cursor });
      seen.push(...page!.orders.map((o) => o.orderId));
      cursor = page!.nextCursor;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    const expected = Array.from({ length: 25 }, (_, i) => `o${String(i).padStart(2, '0')}`).reverse();
    assert.deepEqual(seen, expected);
    assert.equal(store.orders('shop', 'u1', { limit: 10, cursor: 'not-a-cursor' }), null);
    assert.deepEqual(store.orders('shop', 'nobody', { limit: 10 }), { orders: [], nextCursor: null });
    store.close();
  });

  it('keeps the newest activity per customer up to the cap, and the first time seen', () => {
    const store = fresh(5);
    for (let i = 0; i < 12; i += 4) {
      store.apply(
        Array.from({ length: 4 }, (_, k) =>
          testEvent({
            type: 'view',
            time: T0 + (i + k) * MIN,
            visitor: 'v9',
            user_id: 'u9',
            product_id: `p${i + k}`,
          }),
        ),
      );
    }
    // Anonymous bots are nobody's customer.
    store.apply([
      testEvent({ type: 'view', time: T0, visitor: 'bot-1', userAgent: BOT_UA, product_id: 'x' }),
    ]);
    const c = store.customer('shop', 'u9')!;
    assert.deepEqual(
      c.activity.map((a) => a.productId),
      ['p11', 'p10', 'p9', 'p8', 'p7'],
    );
    assert.equal(c.firstSeen, T0);
    assert.equal(c.lastSeen, T0 + 11 * MIN);
    assert.equal(store.customer('shop', 'bot-1'), null);
    assert.ok(store.counts().activity <= 6, 'older rows are trimmed (in steps of a fifth of the cap)');
    store.close();
  });
});
