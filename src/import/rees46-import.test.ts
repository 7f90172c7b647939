import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fromRees46Row } from '../events/rees46.js';
import { QuerySandbox } from '../query/sandbox.js';
import { ctx } from '../testing/ingest-context.js';
import { importRees46 } from './rees46-import.js';

const SAMPLE = join(import.meta.dirname, '..', '..', 'test-data', 'rees46_sample.csv');
const HEADER = 'event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session';

describe('REES46 import', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-import-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const opts = (dataDir: string) => ({ dataDir, siteId: 'shop', maxFutureMs: 600_000 });

  it('loads the real sample exactly as the per-row mapping does', {
    skip: !existsSyncSafe(SAMPLE) && 'shared sample missing',
  }, async () => {
    const dataDir = join(dir, 'sample');
    const summary = await importRees46(SAMPLE, opts(dataDir));
    assert.equal(summary.loaded, 1000);
    assert.equal(summary.rejected, 0);

    const sandbox = await QuerySandbox.open({ dataDir, timeoutMs: 10_000, maxRows: 5000 });
    const r = await sandbox.query(
      `select event_type, count(*) as n, sum(revenue) as revenue, count(distinct user_id) as users,
        count(distinct event_id) as ids, min(event_time) as first, max(event_time) as last from events group by 1 order by 1`,
    );
    // Independent count straight from the CSV text.
    const lines = readFileSync(SAMPLE, 'utf8').trim().split('\n').slice(1);
    const byType = new Map<string, number>();
    for (const l of lines) byType.set(l.split(',')[1], (byType.get(l.split(',')[1]) ?? 0) + 1);
    assert.deepEqual(
      r.rows.map((x) => [x.event_type, Number(x.n)]),
      [...byType].sort(([a], [b]) => a.localeCompare(b)),
    );
    assert.deepEqual(byType.get('view'), 987);
    for (const row of r.rows) assert.equal(Number(row.ids), Number(row.n), 'event ids are unique');

    // Row-by-row against the TypeScript mapping used for live REES46 rows.
    const rows = (await sandbox.query('select * from events order by event_time, event_id')).rows;
    const c = ctx({ source: 'import', maxPastMs: Number.POSITIVE_INFINITY, userAgent: null, ip: null });
    const expected = lines.map((l) => {
      const m = fromRees46Row(l.split(','), c);
      assert.ok(m.ok);
      return m.value;
    });
    const ms = (t: unknown) => (typeof t === 'number' ? t : Date.parse(`${String(t).replace(' ', 'T')}Z`));
    const key = (e: {
      product_id: unknown;
      user_session: unknown;
      event_time: unknown;
      event_type: unknown;
    }) => `${e.event_type}|${e.product_id}|${e.user_session}|${ms(e.event_time)}`;
    const got = new Map(rows.map((x) => [key(x as never), x]));
    for (const e of expected) {
      const g = got.get(key(e));
      assert.ok(g, `row ${key(e)} imported`);
      for (const col of [
        'category_id',
        'category_code',
        'brand',
        'price',
        'user_id',
        'quantity',
        'revenue',
        'device_type',
        'is_bot',
      ] as const) {
        assert.equal(g[col] ?? null, e[col] ?? null, `${col} of ${key(e)}`);
      }
    }
    assert.equal(
      String(rows.find((x) => x.category_id === '2103807459595387724')?.category_id),
      '2103807459595387724',
      '19-digit ids survive',
    );
    sandbox.close();
  });

  it('keeps broken rows with their line and reason, loads the rest, and replaces on re-import', async () => {
    const dataDir = join(dir, 'broken');
    const file = join(dir, 'broken.csv');
    writeFileSync(
      file,
      [
        HEADER,
        '2019-10-01 00:00:00 UTC,view,1,2053013552326770905,a.b,acme,10.5,1,s1', // 2 ok
        'garbage', // 3
        '2019-10-01 00:00:01 UTC,teleport,1,2,,acme,1,1,s1', // 4
        '2019-10-01 00:00:02 UTC,view,1,2,,acme,-3,1,s1', // 5
        '2019-10-01 00:00:03 UTC,view,1,2,,acme,3,1,s1', // 6 ok
        '2099-10-01 00:00:03 UTC,view,1,2,,acme,3,1,s1', // 7
        '2019-10-01 00:00:04 UTC,purchase,x,2,,acme,3,1,s1', // 8
        '2019-10-01 00:00:05 UTC,purchase,7,2,,acme,3,1,s1', // 9 ok
      ].join('\n'),
    );
    const first = await importRees46(file, opts(dataDir));
    assert.equal(first.loaded, 3);
    assert.equal(first.rejected, 5);
    const sandbox = await QuerySandbox.open({ dataDir, timeoutMs: 10_000, maxRows: 100 });
    const bad = (
      await sandbox.query("select line, reason from bad_records where source = 'import' order by line")
    ).rows;
    assert.deepEqual(
      bad.map((b) => Number(b.line)),
      [3, 4, 5, 7, 8],
    );
    assert.match(String(bad[1].reason), /event_type/);
    assert.match(String(bad[2].reason), /price is negative/);
    assert.match(String(bad[3].reason), /future/);
    assert.match(String(bad[4].reason), /product_id/);

    await importRees46(file, opts(dataDir));
    const [{ n }] = (await sandbox.query('select count(*) as n from events')).rows;
    assert.equal(Number(n), 3, 're-importing the same file does not duplicate rows');
    sandbox.close();
  });

  it('refuses a file that is not REES46 with a clear message', async () => {
    const file = join(dir, 'other.csv');
    writeFileSync(file, 'a,b,c\n1,2,3\n');
    await assert.rejects(
      importRees46(file, opts(join(dir, 'other'))),
      /does not start with the REES46 header/,
    );
  });
});

function existsSyncSafe(p: string): boolean {
  try {
    readFileSync(p);
    return true;
  } catch {
    return false;
  }
}
