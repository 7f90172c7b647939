import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CanonicalEvent } from '../events/model.js';
import { hllKey } from './hyperloglog.js';
import { feedItem, RecentFeed, WindowAggregate } from './metrics.js';
import { BOT_UA, SHOP_URL, T0, testEvent } from './test-events.js';

const at = (s: number) => T0 + s * 1000;

/** Four shoppers and a crawler in one minute. */
function shopMinute(): CanonicalEvent[] {
  return [
    testEvent({
      type: 'page_view',
      time: at(1),
      visitor: 'a',
      url: `${SHOP_URL}/?utm_source=newsletter&utm_campaign=black-friday`,
      referrer: 'https://www.google.com/search?q=shoes',
    }),
    testEvent({
      type: 'view',
      time: at(2),
      visitor: 'a',
      product_id: 'p1',
      brand: 'Acme',
      category_code: 'shoes.run',
    }),
    testEvent({ type: 'cart', time: at(3), visitor: 'a', product_id: 'p1' }),
    // One order in two rows: counts once, revenue of both rows.
    testEvent({ type: 'purchase', time: at(4), visitor: 'a', order_id: 'o1', product_id: 'p1', price: 100 }),
    testEvent({ type: 'purchase', time: at(4), visitor: 'a', order_id: 'o1', product_id: 'p2', revenue: 50 }),
    // Internal navigation: the shop itself is not a referrer.
    testEvent({
      type: 'page_view',
      time: at(5),
      visitor: 'b',
      url: `${SHOP_URL}/p/p1`,
      referrer: `${SHOP_URL}/`,
    }),
    testEvent({ type: 'view', time: at(6), visitor: 'b', product_id: 'p1', brand: 'Acme' }),
    testEvent({ type: 'view', time: at(7), visitor: 'b', product_id: 'p2', brand: 'Zeta' }),
    testEvent({ type: 'cart', time: at(8), visitor: 'b', product_id: 'p2' }),
    testEvent({ type: 'view', time: at(9), visitor: 'c', product_id: 'p2', brand: 'Zeta' }),
    // A purchase row without order_id is an order of its own: 20 × 2.
    testEvent({ type: 'purchase', time: at(10), visitor: 'd', product_id: 'p3', price: 20, quantity: 2 }),
    ...[11, 12, 13, 14].map((s) =>
      testEvent({
        type: s === 11 ? 'page_view' : 'view',
        time: at(s),
        visitor: 'bot',
        product_id: 'p1',
        url: `${SHOP_URL}/p/p1`,
        userAgent: BOT_UA,
      }),
    ),
  ];
}

const aggregate = (events: CanonicalEvent[], opts?: ConstructorParameters<typeof WindowAggregate>[0]) => {
  const agg = new WindowAggregate(opts);
  for (const e of events) agg.add(e, hllKey(e.visitor_id));
  return agg;
};

describe('window metrics', () => {
  it('counts events, visitors, funnel, orders, revenue and AOV, with bots kept apart', () => {
    const s = aggregate(shopMinute()).summary(5);
    assert.equal(s.events, 11);
    assert.deepEqual(s.byType, { page_view: 2, view: 4, cart: 2, purchase: 3 });
    assert.equal(s.visitors, 4);
    assert.deepEqual(s.funnel, { view: 3, cart: 2, purchase: 2 });
    assert.equal(s.orders, 2);
    assert.equal(s.revenue, 190);
    assert.equal(s.aov, 95);
    assert.deepEqual(s.bots, { events: 4, share: 4 / 15, byType: { page_view: 1, view: 3 } });
    assert.equal(s.botEvents, 4);
    const keys = (list: keyof typeof s.top) => s.top[list].map((t) => [t.key, t.count]);
    assert.deepEqual(keys('products'), [
      ['p1', 2],
      ['p2', 2],
    ]);
    assert.deepEqual(keys('brands'), [
      ['acme', 2],
      ['zeta', 2],
    ]);
    assert.deepEqual(keys('categories'), [['shoes.run', 1]]);
    assert.deepEqual(keys('pages'), [
      ['/', 1],
      ['/p/p1', 1],
    ]);
    assert.deepEqual(keys('referrers'), [['google.com', 1]]);
    assert.deepEqual(keys('utmSources'), [['newsletter', 1]]);
    assert.deepEqual(keys('utmCampaigns'), [['black-friday', 1]]);
    assert.deepEqual(keys('browsers'), [['Chrome', 11]]);
    assert.deepEqual(keys('os'), [['Windows', 11]]);
    assert.deepEqual(keys('devices'), [['desktop', 11]]);
  });

  it('counts bots as business traffic only when asked to', () => {
    const s = aggregate(shopMinute(), { topK: 100, includeBots: true }).summary();
    assert.equal(s.events, 15);
    assert.equal(s.visitors, 5);
    assert.equal(s.top.products.find((t) => t.key === 'p1')?.count, 5);
    assert.equal(s.bots.share, 4 / 15);
  });

  it('merges two halves into the numbers of the whole, and survives encode/decode', () => {
    const events = shopMinute();
    const whole = aggregate(events).summary();
    const merged = aggregate(events.slice(0, 6))
      .merge(aggregate(events.slice(6)))
      .summary();
    assert.deepEqual(merged, whole);
    const agg = aggregate(events);
    assert.deepEqual(WindowAggregate.decode(agg.encode()).summary(), whole);
    assert.ok(
      agg.encode().length < 4096,
      `a quiet minute is small in the checkpoint (${agg.encode().length} B)`,
    );
  });

  it('keeps the most recent events, newest first', () => {
    const feed = new RecentFeed(3);
    const events = shopMinute();
    for (const e of events.slice(0, 5)) feed.push(feedItem(e, false));
    assert.deepEqual(
      feed.list().map((f) => f.event_time),
      [at(4), at(4), at(3)],
    );
    assert.deepEqual(RecentFeed.from(feed.list(), 3).list(), feed.list());
  });
});
