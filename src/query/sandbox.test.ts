import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fromWire } from '../events/normalise.js';
import { LAKE_TABLES } from '../lake/lake.js';
import { LakeWriter } from '../lake/writer.js';
import { ctx } from '../testing/ingest-context.js';
import { QueryError, QuerySandbox } from './sandbox.js';

describe('SQL sandbox over the lake', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-sandbox-'));
  let sandbox: QuerySandbox;

  before(async () => {
    const writer = await LakeWriter.open(dataDir);
    const lines = Array.from({ length: 30 }, (_, i) => {
      const m = fromWire({ type: i % 3 === 0 ? 'purchase' : 'view', price: 10, event_id: `e${i}` }, ctx());
      assert.ok(m.ok);
      return JSON.stringify(m.value);
    });
    await writer.write(LAKE_TABLES.events, lines, 'part-1-30.parquet');
    writer.close();
    sandbox = await QuerySandbox.open({ dataDir, timeoutMs: 1500, maxRows: 20 });
  });
  after(() => {
    sandbox?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers SELECTs over the events view with Hive partition columns', async () => {
    const r = await sandbox.query(
      'select event_type, count(*) as n, sum(revenue) as rev, any_value(dt) as dt from events group by 1 order by 1',
    );
    assert.deepEqual(
      r.rows.map((x) => [x.event_type, Number(x.n), x.rev, x.dt]),
      [
        ['purchase', 10, 100, '2026-11-23'],
        ['view', 20, null, '2026-11-23'],
      ],
    );
  });

  it('caps rows and says so', async () => {
    const r = await sandbox.query('select * from events');
    assert.equal(r.rows.length, 20);
    assert.equal(r.truncated, true);
  });

  const refused: [string, RegExp][] = [
    ["select * from read_csv('/etc/passwd')", /disabled by configuration/],
    ["select * from read_text('/etc/hostname')", /disabled by configuration/],
    [`COPY (select * from events) TO '${dataDir}/lake/events/leak.csv'`, /only SELECT.*COPY/],
    ["ATTACH '/tmp/other.db' AS other", /only SELECT|disabled/],
    ['INSTALL httpfs', /only SELECT/],
    ['LOAD httpfs', /only SELECT/],
    ['SET enable_external_access = true', /only SELECT.*SET/],
    ["SELECT current_setting('enable_external_access') AS x; SET threads = 1", /exactly one SQL statement/],
    ['CREATE TABLE t AS SELECT 1', /only SELECT/],
    ['DROP VIEW events', /only SELECT/],
  ];
  for (const [sql, reason] of refused) {
    it(`refuses: ${sql.slice(0, 60)}`, async () => {
      await assert.rejects(
        sandbox.query(sql),
        (e: Error) => e instanceof QueryError && reason.test(e.message),
      );
    });
  }

  it('cancels a query over its time limit with a clear message', async () => {
    await assert.rejects(
      sandbox.query('select count(*) from range(1000000000000) a'),
      (e: Error) =>
        e instanceof QueryError && e.code === 'timeout' && /cancelled after 1500 ms/.test(e.message),
    );
    // and keeps working afterwards
    assert.equal((await sandbox.query('select 1 as one')).rows[0].one, 1);
  });

  it('stops a running query when its signal is aborted, and says it was cancelled', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(
      sandbox.query('select count(*) from range(1000000000000) a', { signal: controller.signal }),
      (e: Error) =>
        e instanceof QueryError && e.code === 'cancelled' && /cancelled after \d+ ms/.test(e.message),
    );
    assert.ok(Date.now() - started < 1400, 'stopped before the time limit');
    // An abort before the query starts stops it too.
    await assert.rejects(
      sandbox.query('select 1', { signal: AbortSignal.abort() }),
      (e: Error) => e instanceof QueryError && e.code === 'cancelled',
    );
    assert.equal((await sandbox.query('select 2 as two')).rows[0].two, 2);
  });

  it('reports SQL mistakes as invalid, not as crashes', async () => {
    await assert.rejects(
      sandbox.query('select nope from events'),
      (e: Error) => e instanceof QueryError && /nope/.test(e.message),
    );
  });
});
