import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { isbot } from 'isbot';
import { fromWire, type IngestContext } from '../events/normalise.js';
import { buildCatalogue } from './catalogue.js';
import { plannedRees46Row, REES46_HEADER, REES46_TYPES, rees46Row } from './csv.js';
import { type DemoItem, demoIncidents, generateDemo, plannedEvents } from './generator.js';
import { demoCsv } from './run.js';
import { toDemoItem } from './session.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2024, 9, 7); // a Monday, midnight UTC
const SEED = 42;
const EVENTS_PER_DAY = 60_000;

function take<T>(source: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  for (const x of source) {
    if (out.length === n) break;
    out.push(x);
  }
  return out;
}

const timeOf = (item: DemoItem) => Date.parse(item.event.time as string);
const incidentOf = (item: DemoItem) => item.event.props?.demo_incident as string | undefined;

// Three days of traffic, shared by the behavioural tests (~200k events, generated once).
let threeDays: DemoItem[] | undefined;
function traffic(): DemoItem[] {
  threeDays ??= [
    ...generateDemo({ startMs: START, endMs: START + 3 * DAY, seed: SEED, eventsPerDay: EVENTS_PER_DAY }),
  ];
  return threeDays;
}

describe('demo generator', () => {
  it('gives identical events for the same seed and different ones for another seed', () => {
    const options = { startMs: START, seed: SEED, eventsPerDay: EVENTS_PER_DAY };
    const first = JSON.stringify(take(generateDemo(options), 1000));
    assert.equal(JSON.stringify(take(generateDemo(options), 1000)), first);
    assert.notEqual(JSON.stringify(take(generateDemo({ ...options, seed: SEED + 1 }), 1000)), first);
    assert.deepEqual(demoIncidents(START, 3, SEED), demoIncidents(START, 3, SEED));
  });

  it('emits events in time order, inside the range, at about the requested volume', () => {
    const items = traffic();
    for (let i = 1; i < items.length; i++)
      assert.ok(timeOf(items[i - 1]) <= timeOf(items[i]), `out of order at ${i}`);
    assert.ok(timeOf(items[0]) >= START && timeOf(items[items.length - 1]) < START + 3 * DAY);
    const regular = items.filter((i) => !incidentOf(i)?.startsWith('request-flood')).length;
    assert.ok(
      Math.abs(regular / (3 * EVENTS_PER_DAY) - 1) < 0.2,
      `${regular} events for ${3 * EVENTS_PER_DAY} asked`,
    );
  });

  it('produces events the collector accepts', () => {
    const ctx: IngestContext = {
      siteId: 'demo',
      source: 'demo',
      receivedAt: START + 3 * DAY,
      ip: null,
      userAgent: null,
      salt: 'salt',
      anonymizeIp: true,
      maxFutureMs: Number.POSITIVE_INFINITY,
      maxPastMs: Number.POSITIVE_INFINITY,
    };
    const items = traffic();
    for (let i = 0; i < items.length; i += 37) {
      const mapped = fromWire(items[i].event, { ...ctx, ip: items[i].ip, userAgent: items[i].userAgent });
      assert.ok(mapped.ok, `${JSON.stringify(items[i].event)}: ${mapped.ok ? '' : mapped.reason}`);
    }
  });

  it('walks a realistic funnel: views > carts > purchases, ~2–4% of sessions buy, ~30% of carters', () => {
    const sessions = new Map<string, Set<string>>();
    const counts: Record<string, number> = {};
    for (const item of traffic()) {
      if (isbot(item.userAgent) || incidentOf(item)?.startsWith('request-flood')) continue;
      counts[item.event.type] = (counts[item.event.type] ?? 0) + 1;
      const id = item.event.session_id!;
      const types = sessions.get(id) ?? new Set();
      types.add(item.event.type);
      sessions.set(id, types);
    }
    assert.ok(counts.view > 10 * counts.cart && counts.cart > counts.purchase, JSON.stringify(counts));
    const all = [...sessions.values()];
    const buyers = all.filter((t) => t.has('purchase')).length;
    const carters = all.filter((t) => t.has('cart')).length;
    assert.ok(
      buyers / all.length > 0.015 && buyers / all.length < 0.05,
      `${buyers}/${all.length} sessions buy`,
    );
    assert.ok(buyers / carters > 0.18 && buyers / carters < 0.45, `${buyers}/${carters} carters buy`);
    // Every purchase row carries its order and line revenue.
    const purchase = traffic().find((i) => i.event.type === 'purchase')!.event;
    assert.ok(
      purchase.order_id && purchase.revenue === Math.round(purchase.price! * purchase.quantity! * 100) / 100,
    );
  });

  it('follows the daily rhythm: evening busier than night', () => {
    const perHour = new Array(24).fill(0);
    for (const item of traffic()) if (!incidentOf(item)) perHour[new Date(timeOf(item)).getUTCHours()]++;
    assert.ok(perHour[20] > 3 * perHour[4], `20h: ${perHour[20]}, 4h: ${perHour[4]}`);
  });

  it('mixes in crawlers and scrapers that a UA check flags and that never buy', () => {
    const items = traffic();
    const bots = items.filter((i) => isbot(i.userAgent));
    const share = bots.length / items.length;
    assert.ok(share > 0.05 && share < 0.4, `bot share ${share}`);
    assert.ok(bots.every((i) => i.event.type === 'view' || i.event.type === 'page_view'));
    for (const family of ['Googlebot', 'bingbot', 'python-requests', 'HeadlessChrome']) {
      assert.ok(
        bots.some((i) => i.userAgent.includes(family)),
        `no ${family} traffic`,
      );
    }
    // Shoppers' browsers are not mistaken for bots.
    assert.ok(items.filter((i) => i.event.type === 'purchase').every((i) => !isbot(i.userAgent)));
    // Bots view many products per visit, seconds apart.
    const perSession = new Map<string, number[]>();
    for (const i of bots)
      perSession.set(i.event.session_id!, [...(perSession.get(i.event.session_id!) ?? []), timeOf(i)]);
    const visits = [...perSession.values()].filter((times) => times[0] >= START + HOUR); // skip visits cut by the range start
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
    assert.ok(median(visits.map((t) => t.length)) >= 20);
    assert.ok(median(visits.map((t) => (t[t.length - 1] - t[0]) / (t.length - 1))) < 5000);
  });

  it('breaks checkout for an hour: purchases drop far below the same hour on other days', () => {
    const drop = demoIncidents(START, 3, SEED).find((i) => i.kind === 'order_drop')!;
    const purchasesBetween = (from: number) =>
      traffic().filter((i) => i.event.type === 'purchase' && timeOf(i) >= from && timeOf(i) < from + HOUR)
        .length;
    const during = purchasesBetween(drop.startMs);
    const others = [0, 1, 2]
      .map((d) => START + d * DAY + (drop.startMs % DAY))
      .filter((t) => t !== drop.startMs)
      .map(purchasesBetween);
    const usual = others.reduce((a, b) => a + b) / others.length;
    assert.ok(usual >= 8 && during < 0.35 * usual, `during ${during}, usually ${usual}`);
    const labelled = traffic().filter((i) => incidentOf(i) === drop.id);
    assert.ok(labelled.some((i) => i.event.type === 'checkout_error'));
    assert.ok(labelled.every((i) => timeOf(i) < drop.endMs + HOUR));
  });

  it('floods from a few addresses in one /24 that dominate requests in their window', () => {
    const flood = demoIncidents(START, 3, SEED).find((i) => i.kind === 'request_flood')!;
    const prefix = flood.cidr!.replace(/\.0\/24$/, '.');
    assert.ok(flood.ips!.length >= 3 && flood.ips!.every((ip) => ip.startsWith(prefix)));
    const window = traffic().filter((i) => timeOf(i) >= flood.startMs && timeOf(i) < flood.endMs);
    const perIp = new Map<string, number>();
    for (const i of window) perIp.set(i.ip, (perIp.get(i.ip) ?? 0) + 1);
    const fromFlood = window.filter((i) => flood.ips!.includes(i.ip));
    assert.ok(fromFlood.length > 0.6 * window.length, `${fromFlood.length} of ${window.length}`);
    assert.ok(fromFlood.every((i) => incidentOf(i) === flood.id));
    const top = [...perIp].sort((a, b) => b[1] - a[1]).slice(0, flood.ips!.length);
    assert.deepEqual(top.map(([ip]) => ip).sort(), [...flood.ips!].sort());
  });
});

describe('REES46 CSV', () => {
  const dir = mkdtempSync(join(tmpdir(), 'storepulse-demo-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes exactly the requested rows after the REES46 header, parseable by a plain split', async () => {
    const out = join(dir, 'demo.csv');
    let reported = 0;
    await demoCsv({ out, rows: 20_000, seed: SEED, progress: (rows) => (reported = rows) });
    const lines = readFileSync(out, 'utf8').split('\n');
    assert.equal(lines.pop(), ''); // file ends with a newline
    assert.equal(lines[0], REES46_HEADER);
    assert.equal(lines.length, 20_001);
    assert.equal(reported, 20_000);
    const catalogue = buildCatalogue(SEED);
    const categoryIds = new Set(catalogue.categories.map((c) => c.id));
    for (const line of lines.slice(1)) {
      const [time, type, productId, categoryId, , brand, price, userId, session] = line.split(',');
      assert.equal(line.split(',').length, 9, line);
      assert.match(time, /^2019-10-0\d \d\d:\d\d:\d\d UTC$/);
      assert.ok(REES46_TYPES.has(type), line);
      assert.match(productId, /^\d+$/);
      assert.ok(categoryIds.has(categoryId) && categoryId.length === 19, line);
      assert.ok(catalogue.brands.includes(brand), line);
      assert.ok(Number(price) > 0, line);
      assert.match(userId, /^\d{9}$/);
      assert.match(session, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });

  it('gzips when the name ends in .gz', async () => {
    const out = join(dir, 'demo.csv.gz');
    await demoCsv({ out, rows: 3_000, seed: SEED });
    const lines = gunzipSync(readFileSync(out)).toString('utf8').trimEnd().split('\n');
    assert.equal(lines.length, 3_001);
    assert.equal(lines[0], REES46_HEADER);
  });

  it('writes the same rows as mapping the generated WireEvents with rees46Row', () => {
    const options = { startMs: START, seed: SEED, eventsPerDay: EVENTS_PER_DAY, types: REES46_TYPES };
    const fast = take(plannedEvents(options), 5_000).map(plannedRees46Row);
    const viaWire = take(plannedEvents(options), 5_000).map((p) => rees46Row(toDemoItem(p, p.t).event));
    assert.deepEqual(fast, viaWire);
    assert.ok(fast.every((row) => row !== null));
  });

  it('leaves out events REES46 has no row for and quotes fields that need it', () => {
    assert.equal(rees46Row({ type: 'page_view', time: '2019-10-01T00:00:00.000Z' }), null);
    assert.equal(
      rees46Row({
        type: 'view',
        time: Date.UTC(2019, 9, 1, 13, 5, 9),
        product_id: 1,
        brand: 'a,b',
        visitor_id: 'v',
      }),
      '2019-10-01 13:05:09 UTC,view,1,,,"a,b",,v,',
    );
  });
});
