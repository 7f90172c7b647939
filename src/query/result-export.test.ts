import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { fromWire } from '../events/normalise.js';
import { LAKE_TABLES, lakeDir } from '../lake/lake.js';
import { LakeWriter } from '../lake/writer.js';
import { ctx } from '../testing/ingest-context.js';
import { EXPORT_MAX_ROWS, exportQueryResult, exportsDir } from './result-export.js';
import { QueryError } from './sandbox.js';

describe('query result export (CSV, Parquet)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-export-'));
  const outside = mkdtempSync(join(tmpdir(), 'sp-export-outside-'));
  const run = (
    sql: string,
    format: 'csv' | 'parquet' = 'csv',
    extra: { signal?: AbortSignal; maxRows?: number } = {},
  ) => exportQueryResult({ dataDir, sql, format, timeoutMs: 3000, ...extra });

  before(async () => {
    const writer = await LakeWriter.open(dataDir);
    const lines = Array.from({ length: 40 }, (_, i) => {
      const m = fromWire(
        {
          type: i % 4 === 0 ? 'purchase' : 'view',
          price: i,
          event_id: `x${i}`,
          brand: i === 3 ? 'a,"b"' : null,
        },
        ctx(),
      );
      assert.ok(m.ok);
      return JSON.stringify(m.value);
    });
    await writer.write(LAKE_TABLES.events, lines, 'part-1-40.parquet');
    writer.close();
  });
  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('writes the whole result as Parquet that reads back equal to the query', async () => {
    const sql = 'select event_id, event_type, price, event_time, dt from events order by price';
    const file = await run(`${sql};`, 'parquet');
    try {
      assert.equal(file.rows, 40);
      assert.equal(file.limitReached, false);
      assert.ok(file.path.startsWith(exportsDir(dataDir)), 'written outside the lake, in the exports dir');
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      const back = await conn.runAndReadAll(`select * from read_parquet('${file.path}')`);
      const direct = await conn.runAndReadAll(
        `select event_id, event_type, price, event_time, dt from read_parquet('${lakeDir(dataDir)}/events/*/*/*.parquet', hive_partitioning = true, hive_types = {'dt': DATE, 'hour': INTEGER}) order by price`,
      );
      assert.deepEqual(back.columnNames(), direct.columnNames());
      assert.deepEqual(back.getRowsJson(), direct.getRowsJson());
      assert.deepEqual(back.columnTypes().map(String), direct.columnTypes().map(String));
      conn.closeSync();
      db.closeSync();
    } finally {
      file.cleanup();
    }
    assert.equal(existsSync(file.path), false, 'deleted after use');
  });

  it('writes CSV with a header and quoted values', async () => {
    const file = await run(
      `select event_id, brand from events where event_id in ('x3', 'x4') order by event_id -- two rows`,
    );
    const text = readFileSync(file.path, 'utf8');
    file.cleanup();
    assert.equal(text, 'event_id,brand\nx3,"a,""b"""\nx4,\n');
  });

  it('stops at the row limit and says so', async () => {
    const file = await run('select * from range(100)', 'csv', { maxRows: 10 });
    file.cleanup();
    assert.deepEqual([file.rows, file.limitReached], [10, true]);
    assert.ok(EXPORT_MAX_ROWS >= 1_000_000);
  });

  const refused: [string, RegExp][] = [
    [`COPY (select 1) TO '${outside}/x.csv'`, /only SELECT.*COPY|disabled by configuration/],
    [`COPY (select 1) TO '${lakeDir(dataDir)}/events/leak.csv'`, /only SELECT.*COPY/],
    ["select * from read_csv('/etc/passwd')", /disabled by configuration/],
    [`select * from read_text('${exportsDir(dataDir)}/*/*')`, /.+/],
    ['select 1; select 2', /exactly one SQL statement/],
    [`select 1) TO '${outside}/y.csv' (FORMAT csv); COPY (select 1`, /syntax error|exactly one/i],
    [`select 1\n) TO '${outside}/z.csv' (FORMAT csv) --`, /syntax error|exactly one/i],
    ['SET enable_external_access = true', /only SELECT/],
    ["ATTACH '/tmp/other.db' AS other", /only SELECT|disabled/],
  ];
  for (const [sql, reason] of refused) {
    it(`refuses through the export path: ${sql.slice(0, 60).replaceAll('\n', ' ')}`, async () => {
      await assert.rejects(
        run(sql, 'parquet'),
        (e: Error) => e instanceof QueryError && reason.test(e.message),
      );
      assert.deepEqual(readdirSync(outside), [], 'nothing written outside');
      assert.deepEqual(readdirSync(exportsDir(dataDir)), [], 'the failed export left no files');
      assert.deepEqual(
        readdirSync(join(lakeDir(dataDir), 'events')).filter((f) => !f.startsWith('dt=')),
        [],
        'nothing written into the lake',
      );
    });
  }

  it('a read of another export directory finds nothing: each export sees only its own empty one', async () => {
    const first = await run('select 1 as a', 'csv');
    try {
      await assert.rejects(run(`select * from read_csv('${first.path}')`), /disabled by configuration/);
    } finally {
      first.cleanup();
    }
  });

  it('is cancelled by its signal and keeps nothing', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    await assert.rejects(
      run('select count(*) from range(1000000000000) a, range(10) b', 'parquet', {
        signal: controller.signal,
      }),
      (e: Error) => e instanceof QueryError && e.code === 'cancelled',
    );
    assert.deepEqual(readdirSync(exportsDir(dataDir)), []);
  });
});
