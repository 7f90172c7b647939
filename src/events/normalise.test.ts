import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ctx } from '../testing/ingest-context.js';
import { anonymizeIp, parseUserAgent } from './enrich.js';
import { fromWire } from './normalise.js';
import { fromPixel } from './pixel.js';
import { fromRees46Row } from './rees46.js';

const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

describe('own JSON events', () => {
  it('maps a purchase and enriches it from the request', () => {
    const r = fromWire(
      {
        type: 'purchase',
        event_id: 'ord-1-line-1',
        time: '2026-11-23T11:59:00Z',
        product_id: 42,
        price: 19.5,
        quantity: 2,
        currency: 'eur',
        order_id: 'o-1',
        user_id: 7,
        url: 'https://shop.example/checkout/done?utm_source=newsletter&utm_medium=email&utm_campaign=bf',
        referrer: 'https://www.google.com/search?q=x',
        props: { coupon: 'BF10' },
      },
      ctx(),
    );
    assert.ok(r.ok, !r.ok ? r.reason : '');
    const e = r.value;
    assert.equal(e.event_type, 'purchase');
    assert.equal(e.event_id, 'ord-1-line-1');
    assert.equal(e.event_time, Date.parse('2026-11-23T11:59:00Z'));
    assert.equal(e.product_id, '42');
    assert.equal(e.revenue, 39, 'revenue defaults to price × quantity');
    assert.equal(e.currency, 'EUR');
    assert.equal(e.user_id, '7');
    assert.equal(e.path, '/checkout/done');
    assert.deepEqual([e.utm_source, e.utm_medium, e.utm_campaign], ['newsletter', 'email', 'bf']);
    assert.equal(e.referrer_host, 'google.com');
    assert.equal(e.browser, 'Chrome');
    assert.equal(e.os, 'Windows');
    assert.equal(e.device_type, 'desktop');
    assert.equal(e.is_bot, false);
    assert.equal(e.ip, '203.0.113.0', 'IP anonymised by default');
    assert.equal(e.props, '{"coupon":"BF10"}');
  });

  it('generates an event id and a cookieless visitor id that is stable within a day only', () => {
    const a = fromWire({ type: 'page_view' }, ctx());
    const b = fromWire({ type: 'page_view' }, ctx());
    const nextDay = fromWire({ type: 'page_view' }, ctx({ salt: 'another-day' }));
    const otherSite = fromWire({ type: 'page_view' }, ctx({ siteId: 'other' }));
    assert.ok(a.ok && b.ok && nextDay.ok && otherSite.ok);
    assert.notEqual(a.value.event_id, b.value.event_id);
    assert.equal(a.value.visitor_id, b.value.visitor_id);
    assert.notEqual(a.value.visitor_id, nextDay.value.visitor_id);
    assert.notEqual(a.value.visitor_id, otherSite.value.visitor_id);
    assert.ok(!a.value.visitor_id.includes('203.0.113'));
  });

  it('flags bots and mobile devices with maintained parsers', () => {
    assert.equal(parseUserAgent(GOOGLEBOT).is_bot, true);
    assert.equal(parseUserAgent(GOOGLEBOT).device_type, 'bot');
    assert.equal(parseUserAgent(IPHONE).device_type, 'mobile');
    assert.equal(parseUserAgent(IPHONE).os, 'iOS');
    assert.equal(parseUserAgent('HeadlessChrome/120.0 python-requests/2.31').is_bot, true);
  });

  it('anonymises IPv4, IPv6 and mapped addresses', () => {
    assert.equal(anonymizeIp('198.51.100.23'), '198.51.100.0');
    assert.equal(anonymizeIp('::ffff:198.51.100.23'), '198.51.100.0');
    assert.equal(anonymizeIp('2001:db8:abcd:12:1:2:3:4'), '2001:db8:abcd::');
    assert.equal(anonymizeIp('not-an-ip'), null);
  });

  it('keeps the raw IP when anonymisation is switched off', () => {
    const r = fromWire({ type: 'view' }, ctx({ anonymizeIp: false }));
    assert.ok(r.ok);
    assert.equal(r.value.ip, '203.0.113.77');
  });

  it('maps aliases and custom names', () => {
    const add = fromWire({ type: 'add_to_cart' }, ctx());
    const custom = fromWire({ type: 'Newsletter Signup' }, ctx());
    assert.ok(add.ok && custom.ok);
    assert.equal(add.value.event_type, 'cart');
    assert.equal(custom.value.event_type, 'custom');
    assert.equal(custom.value.event_name, 'Newsletter Signup');
  });

  const refusals: [string, unknown, RegExp][] = [
    ['not an object', 'view', /JSON object/],
    ['missing type', { product_id: 1 }, /missing required field "type"/],
    ['unknown field', { type: 'view', colour: 'red' }, /unknown field "colour".*props/],
    ['wrong type', { type: 'view', price: 'cheap' }, /price/],
    ['negative price', { type: 'view', price: -1 }, /price/],
    ['future time', { type: 'view', time: '2026-11-24T12:00:00Z' }, /in the future/],
    ['ancient time', { type: 'view', time: '2020-01-01T00:00:00Z' }, /older than 31 days.*import/],
    ['before 2000', { type: 'view', time: '1999-12-31T00:00:00Z' }, /before 2000/],
    ['seconds not ms', { type: 'view', time: 1795430900 }, /looks like seconds/],
    ['no time zone', { type: 'view', time: '2026-11-23 11:00:00' }, /time zone/],
    ['bad currency', { type: 'purchase', currency: 'euro' }, /currency/],
    ['huge props', { type: 'view', props: { blob: 'x'.repeat(40_000) } }, /props is larger/],
  ];
  for (const [name, input, reason] of refusals) {
    it(`refuses ${name} with a reason`, () => {
      const r = fromWire(input, ctx());
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.reason, reason);
    });
  }
});

describe('pixel parameters', () => {
  it('maps short names and p.* properties', () => {
    const r = fromPixel(
      { e: 'view', pid: '99', price: '4.5', url: 'https://shop.example/p/99', 'p.colour': 'red', k: 'key' },
      ctx(),
    );
    assert.ok(r.ok, !r.ok ? r.reason : '');
    assert.equal(r.value.event_type, 'view');
    assert.equal(r.value.product_id, '99');
    assert.equal(r.value.price, 4.5);
    assert.equal(r.value.path, '/p/99');
    assert.equal(r.value.props, '{"colour":"red"}');
  });
  it('defaults to a page view and refuses bad numbers and unknown parameters', () => {
    const pv = fromPixel({}, ctx());
    assert.ok(pv.ok && pv.value.event_type === 'page_view');
    const bad = fromPixel({ e: 'view', price: 'abc' }, ctx());
    assert.ok(!bad.ok && /price.*number/.test(bad.reason));
    const unknown = fromPixel({ e: 'view', zzz: '1' }, ctx());
    assert.ok(!unknown.ok && /unknown pixel parameter "zzz"/.test(unknown.reason));
  });
});

describe('REES46 rows', () => {
  const importCtx = ctx({ maxPastMs: Number.POSITIVE_INFINITY, source: 'import' });
  it('maps a row with a 19-digit category id exactly', () => {
    const r = fromRees46Row(
      [
        '2019-10-01 00:00:00 UTC',
        'purchase',
        '44600062',
        '2103807459595387724',
        '',
        'shiseido',
        '35.79',
        '541312140',
        'abc',
      ],
      importCtx,
    );
    assert.ok(r.ok, !r.ok ? r.reason : '');
    assert.equal(r.value.event_time, Date.parse('2019-10-01T00:00:00Z'));
    assert.equal(r.value.category_id, '2103807459595387724');
    assert.equal(r.value.category_code, null);
    assert.equal(r.value.revenue, 35.79);
    assert.equal(r.value.quantity, 1);
    assert.equal(r.value.visitor_id, '541312140');
  });
  it('refuses broken rows with the reason', () => {
    const short = fromRees46Row(['2019-10-01 00:00:00 UTC', 'view'], importCtx);
    assert.ok(!short.ok && /expected 9 columns/.test(short.reason));
    const type = fromRees46Row(['2019-10-01 00:00:00 UTC', 'fly', '1', '', '', '', '1', '', ''], importCtx);
    assert.ok(!type.ok && /event_type "fly"/.test(type.reason));
  });
});

describe('server-side senders', () => {
  it("take the visitor's IP and user agent from the event when given", () => {
    const r = fromWire(
      { type: 'view', ip: '198.51.100.42', user_agent: 'Mozilla/5.0 (compatible; Googlebot/2.1)' },
      ctx(),
    );
    assert.ok(r.ok);
    assert.equal(r.value.ip, '198.51.100.0');
    assert.equal(r.value.is_bot, true);
    const bad = fromWire({ type: 'view', ip: 'localhost' }, ctx());
    assert.ok(!bad.ok && /IPv4 or IPv6/.test(bad.reason));
  });
});
