import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CanonicalEvent } from '../events/model.js';
import { LAKE_TABLES } from '../lake/lake.js';
import { LakeWriter } from '../lake/writer.js';
import { BOT_UA, testEvent } from '../realtime/test-events.js';
import { reportCsv } from './csv.js';
import { ReportEngine } from './engine.js';
import { ReportError } from './report-error.js';
import type { Cell } from './types.js';

const MON = Date.parse('2026-11-23T10:00:00Z'); // a Monday
const TUE = MON + 86_400_000;
const RANGE = { from: '2026-11-23', to: '2026-11-25' };
const WEIRD = '=cmd|acme, "best"\nbrand';
const MIN = 60_000;

/**
 * A small lake written as the collector writes it: two human visitors, a crawler, a weird brand.
 *   A, Monday, session a1: lands from Google with UTM tags, views and carts 2 × p1 (10.00), leaves → abandoned.
 *   B, Monday, session b1: views and buys p2 (30.00) → new buyer.
 *   B, Tuesday, session b2: buys p2 again → returning buyer.
 *   A, Tuesday, session a2: views p1.
 *   crawler C, Monday: views p1 three times (a bot: counted only with bots=include).
 */
function lakeEvents(): CanonicalEvent[] {
  const e = testEvent;
  const p1 = { product_id: 'p1', brand: WEIRD, category_code: 'tools.drill', price: 10 };
  const p2 = { product_id: 'p2', brand: 'bosch', category_code: 'tools.saw', price: 30 };
  const landing = 'https://shop.example/?utm_source=google&utm_campaign=winter';
  return [
    e({
      type: 'page_view',
      time: MON,
      visitor: 'A',
      session_id: 'a1',
      url: landing,
      referrer: 'https://www.google.com/',
    }),
    e({
      type: 'view',
      time: MON + MIN,
      visitor: 'A',
      session_id: 'a1',
      ...p1,
      url: 'https://shop.example/p1',
      referrer: landing,
    }),
    e({ type: 'cart', time: MON + 2 * MIN, visitor: 'A', session_id: 'a1', ...p1, quantity: 2 }),
    e({
      type: 'view',
      time: MON + 5 * MIN,
      visitor: 'B',
      session_id: 'b1',
      ...p2,
      url: 'https://shop.example/p2',
    }),
    e({ type: 'cart', time: MON + 6 * MIN, visitor: 'B', session_id: 'b1', ...p2 }),
    e({ type: 'purchase', time: MON + 7 * MIN, visitor: 'B', session_id: 'b1', ...p2, order_id: 'o1' }),
    e({ type: 'purchase', time: TUE, visitor: 'B', session_id: 'b2', ...p2, order_id: 'o2' }),
    e({ type: 'view', time: TUE + MIN, visitor: 'A', session_id: 'a2', ...p1 }),
    ...[1, 2, 3].map((i) =>
      e({ type: 'view', time: MON + i * MIN, visitor: 'C', session_id: 'c1', ...p1, userAgent: BOT_UA }),
    ),
  ];
}

describe('report engine over a small lake', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-reports-'));
  let writer: LakeWriter;
  let engine: ReportEngine;
  const run = async (id: string, p: Record<string, string> = {}) =>
    (await engine.run('shop', id, { ...RANGE, ...p })).rows;
  const pick = (rows: Record<string, Cell>[], ...cols: string[]) => rows.map((r) => cols.map((c) => r[c]));

  before(async () => {
    writer = await LakeWriter.open(dataDir);
    await writer.write(
      LAKE_TABLES.events,
      lakeEvents().map((x) => JSON.stringify(x)),
      'part-1-11.parquet',
    );
    engine = await ReportEngine.open({ dataDir, timeoutMs: 30_000 });
  });
  after(async () => {
    await engine?.close();
    writer?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts distinct visitors per day and per week, leaving bots out unless asked', async () => {
    assert.deepEqual(pick(await run('visitors'), 'period', 'visitors', 'sessions'), [
      ['2026-11-23', 2, 2],
      ['2026-11-24', 2, 2],
    ]);
    assert.deepEqual(pick(await run('visitors', { bots: 'include' }), 'period', 'visitors', 'sessions'), [
      ['2026-11-23', 3, 3],
      ['2026-11-24', 2, 2],
    ]);
    // The week holds A and B on both days: 2 visitors, not 2 + 2.
    assert.deepEqual(
      pick(await run('visitors', { grain: 'week' }), 'period', 'first_day', 'last_day', 'visitors'),
      [['2026-11-23', '2026-11-23', '2026-11-24', 2]],
    );
    const views = (rows: Record<string, Cell>[]) => rows.map((r) => r.views);
    assert.deepEqual(views(await run('funnel', { dimension: 'brand' })), [2, 1]);
    assert.deepEqual(views(await run('funnel', { dimension: 'brand', bots: 'include' })), [5, 1]);
  });

  it('finds the abandoned cart, its value and its brand', async () => {
    assert.deepEqual(
      pick(
        await run('cart-abandonment'),
        'day',
        'cart_sessions',
        'abandoned_sessions',
        'abandonment_rate',
        'value_left',
      ),
      [
        ['2026-11-23', 2, 1, 0.5, 20],
        ['2026-11-24', 0, 0, null, 0],
      ],
    );
    assert.deepEqual(
      pick(await run('cart-abandonment', { by: 'brand' }), 'brand', 'units_left', 'value_left'),
      [[WEIRD, 2, 20]],
    );
  });

  it('splits buyers into new and returning, and sources sessions by their landing referrer and UTM tags', async () => {
    assert.deepEqual(
      pick(await run('revenue'), 'day', 'revenue', 'orders', 'new_buyers', 'returning_buyers'),
      [
        ['2026-11-23', 30, 1, 1, 0],
        ['2026-11-24', 30, 1, 0, 1],
      ],
    );
    assert.deepEqual(pick(await run('traffic-sources'), 'referrer', 'sessions'), [
      ['(direct)', 3],
      ['google.com', 1],
    ]);
    assert.deepEqual(
      pick(await run('traffic-sources', { by: 'campaign' }), 'utm_source', 'utm_campaign', 'sessions'),
      [
        ['(none)', '(none)', 3],
        ['google', 'winter', 1],
      ],
    );
  });

  it('states the brand rule with the parameters in force', async () => {
    const a = await engine.run('shop', 'brand-marketing', {
      ...RANGE,
      min_views: '1',
      conversion_factor: '0.3',
    });
    assert.match(a.rule ?? '', /at least 1 product views/);
    assert.match(a.rule ?? '', /below 0\.3 × its category's rate/);
    assert.deepEqual(pick(a.rows, 'brand', 'views', 'purchases', 'views_first_half', 'views_second_half'), [
      [WEIRD, 2, 0, 1, 1],
      ['bosch', 1, 2, 1, 0],
    ]);
  });

  it('exports a hostile brand as inert CSV text', async () => {
    const a = await engine.run('shop', 'cart-abandonment', { ...RANGE, by: 'brand' });
    assert.equal(reportCsv(a).split('\r\n')[1], `"'=cmd|acme, ""best""\nbrand",1,2,20`);
  });

  it('sees new, rewritten and removed lake files on the next report', async () => {
    const late = testEvent({
      type: 'view',
      time: TUE + 2 * MIN,
      visitor: 'D',
      session_id: 'd1',
      product_id: 'p9',
    });
    await writer.write(LAKE_TABLES.events, [JSON.stringify(late)], 'part-12-12.parquet');
    assert.deepEqual(pick(await run('visitors'), 'visitors'), [[2], [3]]);
    const week = async (bots = 'exclude') => pick(await run('visitors', { grain: 'week', bots }), 'visitors');
    assert.deepEqual(await week(), [[3]]);
    // D turns out to have been here on Monday too (a late file for an earlier day): still 3 in the week.
    const earlier = testEvent({
      type: 'view',
      time: MON + 30 * MIN,
      visitor: 'D',
      session_id: 'd0',
      product_id: 'p9',
    });
    await writer.write(LAKE_TABLES.events, [JSON.stringify(earlier)], 'part-13-13.parquet');
    assert.deepEqual(pick(await run('visitors'), 'visitors'), [[3], [3]]);
    assert.deepEqual(await week(), [[3]]);
    assert.deepEqual(await week('include'), [[4]]);
    rmSync(join(dataDir, 'lake', 'events', 'dt=2026-11-23', 'hour=10', 'part-13-13.parquet'));
    const hour = join(dataDir, 'lake', 'events', 'dt=2026-11-24', 'hour=10');
    rmSync(join(hour, 'part-12-12.parquet'));
    assert.deepEqual(pick(await run('visitors'), 'visitors'), [[2], [2]]);
    assert.deepEqual(await week(), [[2]]);
    rmSync(join(dataDir, 'lake', 'events', 'dt=2026-11-24'), { recursive: true });
    assert.deepEqual(pick(await run('visitors'), 'visitors'), [[2], [0]]);
    assert.ok(readdirSync(join(dataDir, 'lake', 'events')).length === 1);
  });

  it('answers concurrent reports with the lake as it was before or after a change, never in between', async () => {
    const week = async () => pick(await run('visitors', { grain: 'week' }), 'visitors', 'sessions')[0];
    const [visitors, sessions] = await week();
    const late = testEvent({
      type: 'view',
      time: TUE + 3 * MIN,
      visitor: 'E',
      session_id: 'e1',
      product_id: 'p9',
    });
    const answers = Array.from({ length: 6 }, week);
    await writer.write(LAKE_TABLES.events, [JSON.stringify(late)], 'part-14-14.parquet');
    answers.push(...Array.from({ length: 6 }, week));
    const allowed = [
      JSON.stringify([visitors, sessions]),
      JSON.stringify([Number(visitors) + 1, Number(sessions) + 1]),
    ];
    for (const answer of await Promise.all(answers))
      assert.ok(allowed.includes(JSON.stringify(answer)), `${answer}`);
    assert.deepEqual(await week(), [Number(visitors) + 1, Number(sessions) + 1]);
    rmSync(join(dataDir, 'lake', 'events', 'dt=2026-11-24', 'hour=10', 'part-14-14.parquet'));
    assert.deepEqual(await week(), [visitors, sessions]);
  });

  it('refuses unknown reports and bad parameters with a reason', async () => {
    await assert.rejects(
      engine.run('shop', 'nope', {}),
      (e: unknown) => e instanceof ReportError && e.code === 'unknown_report',
    );
    await assert.rejects(
      engine.run('shop', 'funnel', { dimension: 'colour' }),
      (e: unknown) => e instanceof ReportError && e.code === 'bad_parameter' && e.parameter === 'dimension',
    );
  });

  it('says the data is still being prepared when rolling up takes longer than the time limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sp-reports-slow-'));
    const w = await LakeWriter.open(dir);
    await w.write(
      LAKE_TABLES.events,
      lakeEvents().map((x) => JSON.stringify(x)),
      'part-1-11.parquet',
    );
    w.close();
    const impatient = await ReportEngine.open({ dataDir: dir, timeoutMs: 1 });
    try {
      await assert.rejects(
        impatient.run('shop', 'visitors', RANGE),
        (e: unknown) =>
          e instanceof ReportError && e.code === 'preparing' && /being prepared/.test(e.message),
      );
    } finally {
      await impatient.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
