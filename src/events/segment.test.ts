import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ctx } from '../testing/ingest-context.js';
import type { CanonicalEvent } from './model.js';
import { fromSegment } from './segment.js';

const ok = (r: ReturnType<typeof fromSegment>): CanonicalEvent[] =>
  r.map((m) => {
    assert.ok(m.ok, !m.ok ? m.reason : '');
    return m.value;
  });

describe('Segment e-commerce spec v2', () => {
  const base = {
    userId: 'u1',
    anonymousId: 'a1',
    messageId: 'm1',
    timestamp: '2026-11-23T11:00:00.000Z',
    type: 'track',
  };

  const cases: [string, string][] = [
    ['Product Viewed', 'view'],
    ['Product Added', 'cart'],
    ['Product Removed', 'remove_from_cart'],
    ['Cart Viewed', 'cart_view'],
    ['Checkout Started', 'checkout'],
    ['Products Searched', 'search'],
    ['Payment Info Entered', 'payment_info'],
    ['Order Completed', 'purchase'],
    ['Order Refunded', 'refund'],
    ['Something Else', 'custom'],
  ];
  for (const [name, type] of cases) {
    it(`maps "${name}" to ${type}`, () => {
      const [e] = ok(
        fromSegment({ ...base, event: name, properties: { product_id: 'p1', price: 10 } }, ctx()),
      );
      assert.equal(e.event_type, type);
      assert.equal(e.event_name, name);
    });
  }

  it('splits an order into one purchase row per product with line revenue', () => {
    const rows = ok(
      fromSegment(
        {
          ...base,
          event: 'Order Completed',
          properties: {
            order_id: 'o-9',
            total: 57,
            currency: 'USD',
            products: [
              { product_id: 'p1', price: 10, quantity: 2, brand: 'Acme', category: 'Games' },
              { sku: 'p2', price: 37, quantity: 1 },
            ],
          },
        },
        ctx(),
      ),
    );
    assert.equal(rows.length, 2);
    assert.deepEqual(
      rows.map((r) => [r.event_id, r.product_id, r.revenue, r.order_id, r.currency]),
      [
        ['m1:0', 'p1', 20, 'o-9', 'USD'],
        ['m1:1', 'p2', 37, 'o-9', 'USD'],
      ],
    );
    assert.equal(rows[0].brand, 'acme');
    assert.equal(rows[0].category_code, 'games');
    assert.equal(rows[0].user_id, 'u1');
    assert.equal(rows[0].visitor_id, 'a1');
    assert.match(rows[0].props ?? '', /"total":57/);
  });

  it('maps page and identify, using context.userAgent and context.ip over the request', () => {
    const [page] = ok(
      fromSegment(
        {
          ...base,
          type: 'page',
          name: 'Home',
          properties: { url: 'https://shop.example/?utm_source=fb', referrer: 'https://facebook.com/' },
          context: {
            userAgent: 'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
            ip: '198.51.100.9',
          },
        },
        ctx(),
      ),
    );
    assert.equal(page.event_type, 'page_view');
    assert.equal(page.utm_source, 'fb');
    assert.equal(page.referrer_host, 'facebook.com');
    assert.equal(page.is_bot, true);
    assert.equal(page.ip, '198.51.100.0');
    const [id] = ok(fromSegment({ ...base, type: 'identify', traits: { plan: 'gold' } }, ctx()));
    assert.equal(id.event_type, 'identify');
    assert.match(id.props ?? '', /gold/);
  });

  it('refuses messages without ids, with unknown call types, or bad timestamps', () => {
    const [noId] = fromSegment({ type: 'track', event: 'Product Viewed' }, ctx());
    assert.ok(!noId.ok && /userId or anonymousId/.test(noId.reason));
    const [alias] = fromSegment({ ...base, type: 'alias' }, ctx());
    assert.ok(!alias.ok && /unsupported Segment call type "alias"/.test(alias.reason));
    const [time] = fromSegment({ ...base, event: 'Product Viewed', timestamp: 'yesterday' }, ctx());
    assert.ok(!time.ok && /ISO-8601/.test(time.reason));
  });
});
