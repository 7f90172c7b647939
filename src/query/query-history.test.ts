import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openMetaDb } from '../meta/meta-db.js';
import { HISTORY_PER_USER, QueryHistory } from './query-history.js';

describe('query history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-history-'));
  const db = openMetaDb(dir);
  const history = new QueryHistory(db);
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`keeps each user's last ${HISTORY_PER_USER} queries, newest first, apart from other users'`, () => {
    const entry = (sql: string) => ({
      sql,
      startedAt: Date.now(),
      elapsedMs: 3,
      rows: 1,
      status: 'ok' as const,
      error: null,
    });
    for (let i = 0; i < HISTORY_PER_USER + 20; i++) history.record('user:a', entry(`select ${i}`));
    history.record('user:b', {
      ...entry('select nope'),
      status: 'error',
      rows: null,
      error: 'no column nope',
    });
    const a = history.list('user:a');
    assert.equal(a.length, HISTORY_PER_USER);
    assert.equal(a[0].sql, `select ${HISTORY_PER_USER + 19}`);
    assert.equal(a.at(-1)?.sql, 'select 20');
    assert.deepEqual(
      history.list('user:b').map((e) => [e.sql, e.status, e.error]),
      [['select nope', 'error', 'no column nope']],
    );
    assert.equal(history.list('user:a', 5).length, 5);
    const left = db.prepare("SELECT count(*) AS n FROM query_history WHERE owner = 'user:a'").get() as {
      n: number;
    };
    assert.equal(left.n, HISTORY_PER_USER, 'older rows are deleted, not just hidden');
  });
});
