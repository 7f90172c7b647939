import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EVENT_COLUMNS } from '../events/model.js';
import { LAKE_TABLES } from '../lake/lake.js';
import { LakeWriter } from '../lake/writer.js';
import { QuerySandbox } from '../query/sandbox.js';
import { type CatalogTable, LakeCatalog } from './catalog.js';

/**
 * Events spread over `hours` hours from `start`, written as the lake writer writes them, with
 * some columns left out or added: files from before and after a schema change.
 */
function eventsSql(o: {
  n: number;
  start: string;
  hours: number;
  tag: string;
  drop?: string[];
  extra?: Record<string, string>;
}) {
  const cols = EVENT_COLUMNS.filter(([c]) => !o.drop?.includes(c)).map(([c, t]) => {
    if (c === 'event_id') return `'${o.tag}-' || i AS event_id`;
    if (c === 'event_time')
      return `TIMESTAMP '${o.start}' + to_hours(i % ${o.hours}) + to_seconds(i % 60) AS event_time`;
    if (c === 'received_at')
      return `TIMESTAMP '${o.start}' + to_hours(i % ${o.hours}) + to_seconds(90) AS received_at`;
    if (c === 'event_type') return `CASE WHEN i % 4 = 0 THEN 'purchase' ELSE 'view' END AS event_type`;
    if (c === 'site_id') return `'shop' AS site_id`;
    if (c === 'price' || c === 'revenue') return `(i % 50)::DOUBLE AS ${c}`;
    if (c === 'is_bot') return 'false AS is_bot';
    return `CAST(NULL AS ${t}) AS ${c}`;
  });
  for (const [name, expr] of Object.entries(o.extra ?? {})) cols.push(`${expr} AS ${name}`);
  const t = `TIMESTAMP '${o.start}' + to_hours(i % ${o.hours})`;
  return `SELECT ${cols.join(', ')}, strftime(${t}, '%Y-%m-%d') AS dt, strftime(${t}, '%H') AS hour FROM range(${o.n}) r(i)`;
}

describe('lake catalog', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-catalog-'));
  let writer: LakeWriter;
  let catalog: LakeCatalog;
  let sandbox: QuerySandbox;
  const events = (tables: CatalogTable[]) => tables.find((t) => t.name === 'events') as CatalogTable;

  before(async () => {
    writer = await LakeWriter.open(dataDir);
    // Oldest files: no `currency` column yet.
    await writer.copyPartitioned(
      LAKE_TABLES.events,
      eventsSql({ n: 500, start: '2026-11-20 22:00:00', hours: 4, tag: 'a', drop: ['currency'] }),
      'import-old-0.parquet',
    );
    // Then the full schema, two flushes into the same hours.
    for (const [tag, n] of [
      ['b', 300],
      ['c', 211],
    ] as const) {
      await writer.copyPartitioned(
        LAKE_TABLES.events,
        eventsSql({ n, start: '2026-11-21 10:00:00', hours: 2, tag }),
        `part-${tag === 'b' ? '1-300' : '301-511'}.parquet`,
      );
    }
    // Newest: a file written with an extra column.
    await writer.copyPartitioned(
      LAKE_TABLES.events,
      eventsSql({
        n: 77,
        start: '2026-11-22 09:00:00',
        hours: 1,
        tag: 'd',
        extra: { coupon: `'SAVE' || (i % 3)` },
      }),
      'part-512-588.parquet',
    );
    catalog = await LakeCatalog.open(dataDir);
    sandbox = await QuerySandbox.open({ dataDir, timeoutMs: 10_000, maxRows: 10_000 });
  });
  after(() => {
    catalog?.close();
    sandbox?.close();
    writer?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts rows per partition from footers, equal to COUNT(*) over the same files', async () => {
    const t = events((await catalog.describe()).tables);
    const counted = await sandbox.query(
      `SELECT strftime(dt, '%Y-%m-%d') AS dt, hour, count(*) AS n FROM events GROUP BY ALL ORDER BY dt DESC, hour DESC`,
    );
    assert.deepEqual(
      t.partitions.map((p) => [p.dt, p.hour, p.rows]),
      counted.rows.map((r) => [r.dt, r.hour, r.n]),
    );
    assert.equal(t.rows, 500 + 300 + 211 + 77);
    assert.equal(t.files, 4 + 2 + 2 + 1);
    assert.ok(t.partitions.every((p) => p.bytes > 0 && p.files >= 1));
    assert.equal(
      t.bytes,
      t.partitions.reduce((s, p) => s + p.bytes, 0),
    );
  });

  it('lists columns with types and says which were added later', async () => {
    const t = events((await catalog.describe()).tables);
    const col = (name: string) => t.columns.find((c) => c.name === name);
    assert.equal(col('event_time')?.type, 'TIMESTAMP');
    assert.equal(col('price')?.type, 'DOUBLE');
    assert.equal(col('event_time')?.addedOn, undefined);
    assert.equal(col('event_time')?.files, t.files);
    assert.deepEqual(
      [col('currency')?.addedOn, col('currency')?.files],
      ['2026-11-21', t.files - 4],
      'currency appears from the second day on',
    );
    assert.deepEqual(
      [col('coupon')?.type, col('coupon')?.addedOn, col('coupon')?.files],
      ['VARCHAR', '2026-11-22', 1],
    );
    assert.deepEqual(
      t.columns.filter((c) => c.partition).map((c) => [c.name, c.type]),
      [
        ['dt', 'DATE'],
        ['hour', 'INTEGER'],
      ],
    );
  });

  it('reads old and new files together through the SQL view (union by name)', async () => {
    const r = await sandbox.query(
      `SELECT count(*) AS n, count(coupon) AS with_coupon, count(*) FILTER (WHERE currency IS NULL) AS no_currency,
              min(dt)::VARCHAR AS first FROM events`,
    );
    assert.deepEqual(r.rows[0], { n: 1088, with_coupon: 77, no_currency: 1088, first: '2026-11-20' });
    const old = await sandbox.query(`SELECT coupon FROM events WHERE event_id = 'a-1'`);
    assert.deepEqual(old.rows, [{ coupon: null }]);
  });

  it('knows how fresh each table is', async () => {
    const t = events((await catalog.describe()).tables);
    const newest = await sandbox.query(
      'SELECT epoch_ms(max(event_time)) AS e, epoch_ms(max(received_at)) AS r FROM events',
    );
    assert.equal(t.freshness.newest.event_time, newest.rows[0].e);
    assert.equal(t.freshness.newest.received_at, newest.rows[0].r);
    assert.ok((t.freshness.lastWriteAt ?? 0) > Date.now() - 600_000);
  });

  it('reads each footer once: later calls read only new files, and forget removed ones', async () => {
    await catalog.describe();
    const again = await catalog.describe();
    assert.equal(again.filesRead, 0);
    await writer.copyPartitioned(
      LAKE_TABLES.events,
      eventsSql({ n: 5, start: '2026-11-22 09:00:00', hours: 1, tag: 'e' }),
      'part-589-593.parquet',
    );
    const next = await catalog.describe();
    assert.equal(next.filesRead, 1);
    assert.equal(events(next.tables).rows, 1093);
    rmSync(join(dataDir, 'lake/events/dt=2026-11-22/hour=09/part-589-593.parquet'));
    const after = await catalog.describe();
    assert.equal(events(after.tables).rows, 1088);
  });

  it('describes an empty table from the declared schema', async () => {
    const bad = (await catalog.describe()).tables.find((t) => t.name === 'bad_records') as CatalogTable;
    assert.equal(bad.rows, 0);
    assert.deepEqual(bad.partitions, []);
    assert.ok(bad.columns.some((c) => c.name === 'reason'));
    assert.equal(bad.freshness.newest.received_at, null);
  });
});
