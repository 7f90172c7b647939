import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LogIndex } from '../index/log-index.js';
import { compilePathPatterns, createLineParser } from '../parse/line-parser.js';
import { histogramOf, searchLogs, topValues } from './log-search.js';
import { compileQuery } from './query-language.js';
import { LogQueryError } from './query-text.js';

const APACHE_LOG = new URL('../../../test-data/apache_logs', import.meta.url).pathname;
const grepCount = (args: string[]) => {
  try {
    return Number(execFileSync('grep', ['-c', ...args, APACHE_LOG], { encoding: 'utf8' }));
  } catch {
    return 0; // grep exits 1 when nothing matches
  }
};
const awkCount = (prog: string) => Number(execFileSync('awk', [prog, APACHE_LOG], { encoding: 'utf8' }) || 0);

describe('log search over the real Apache log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-logsearch-'));
  const index = new LogIndex(dir);
  const req = (q: string) => ({ siteId: 's1', q, from: null, to: null });
  const total = (q: string) => histogramOf(index, req(q)).total;

  before(() => {
    const parser = createLineParser('apache', { anonymizeIp: false, pathPatterns: compilePathPatterns([]) });
    const lines = readFileSync(APACHE_LOG, 'utf8').split('\n').filter(Boolean);
    const records = lines.map((l) => parser.line(l, { siteId: 's1', source: 'apache', receivedAt: 0 }));
    // Stream positions 1…n; a redelivered half batch is skipped (exactly once).
    index.applyFromStream(
      'logs',
      records.map((record, i) => ({ position: i + 1, record })),
    );
    assert.equal(
      index.applyFromStream(
        'logs',
        records.slice(0, 500).map((record, i) => ({ position: i + 1, record })),
      ),
      0,
    );
    // Another site's lines are never seen.
    index.applyFromStream('logs', [{ position: 20_000, record: { ...records[0], site_id: 's2' } }]);
  });
  after(() => {
    index.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('one file per day, every line once', () => {
    assert.deepEqual(index.days(), ['2015-05-17', '2015-05-18', '2015-05-19', '2015-05-20']);
    assert.equal(total(''), 10_000);
  });

  it('field, range, phrase, boolean and wildcard queries count what grep/awk count', () => {
    assert.equal(total('status:404'), awkCount('$9 == 404 { n++ } END { print n }'));
    assert.equal(total('status:[500 TO 599]'), awkCount('$9 >= 500 && $9 <= 599 { n++ } END { print n }'));
    assert.equal(total('bytes>100000'), awkCount('$10 != "-" && $10 > 100000 { n++ } END { print n }'));
    assert.equal(total('kibana'), grepCount(['-i', '-w', 'kibana']));
    assert.equal(total('"Googlebot/2.1"'), grepCount(['-F', 'Googlebot/2.1']));
    assert.equal(total('ip:83.149.9.216'), grepCount(['^83\\.149\\.9\\.216 ']));
    assert.equal(
      total('path:/presentations/* AND NOT status:200'),
      awkCount('$7 ~ /^\\/presentations\\// && $9 != 200 { n++ } END { print n }'),
    );
    assert.equal(
      total('(status:404 OR status:500) AND method:GET'),
      awkCount('($9 == 404 || $9 == 500) && $6 == "\\"GET" { n++ } END { print n }'),
    );
    assert.equal(total('favicon*'), grepCount(['-i', 'favicon']));
    assert.equal(total('is_bot:true') > 1000, true);
  });

  it('pages newest first, and the time range narrows', () => {
    const p0 = searchLogs(index, req('status:404'), 0, 50);
    const p1 = searchLogs(index, req('status:404'), 1, 50);
    assert.equal(p0.hits.length, 50);
    assert.ok(p0.hasMore);
    const times = [...p0.hits, ...p1.hits].map((h) => h.time);
    assert.deepEqual(times, [...times].sort().reverse());
    assert.ok(p0.hits.every((h) => h.status === 404));
    const from = Date.UTC(2015, 4, 18);
    const to = Date.UTC(2015, 4, 19);
    const day = histogramOf(index, { siteId: 's1', q: '', from, to });
    assert.equal(day.total, grepCount(['-F', '[18/May/2015:']));
    assert.equal(
      day.buckets.reduce((s, b) => s + b.count, 0),
      day.total,
    );
  });

  it('top values over the matches', () => {
    const top = topValues(index, req(''));
    assert.deepEqual(top.status[0], { value: 200, count: 9126 });
    const ipTop = execFileSync(
      'sh',
      ['-c', `awk '{print $1}' ${APACHE_LOG} | sort | uniq -c | sort -rn | head -1`],
      {
        encoding: 'utf8',
      },
    )
      .trim()
      .split(/\s+/);
    assert.deepEqual(top.ip[0], { value: ipTop[1], count: Number(ipTop[0]) });
  });
});

describe('first page of a free-text search', () => {
  // Pages come from the newest FTS matches by stream position; lines that arrive late (an
  // older position with a newer time) must still land where their time puts them.
  const dir = mkdtempSync(join(tmpdir(), 'sp-logpage-'));
  const index = new LogIndex(dir);
  const parser = createLineParser('apache', { anonymizeIp: false, pathPatterns: compilePathPatterns([]) });
  const lines = readFileSync(APACHE_LOG, 'utf8').split('\n').filter(Boolean);
  const day = Date.UTC(2024, 0, 10);
  before(() => {
    // 30,000 lines of one day, positions in arrival order; every 97th line is "late": its time
    // is late in the day although it arrived early, and every 1000th is among the newest times.
    const batch = [];
    for (let i = 0; i < 30_000; i++) {
      const record = parser.line(lines[i % lines.length], { siteId: 's1', source: 'apache', receivedAt: 0 });
      record.log_time = day + i * 2_000;
      if (i % 97 === 5) record.log_time = day + 30_000 * 2_000 - (i % 7_000);
      batch.push({ position: i + 1, record });
    }
    index.applyFromStream('logs', batch);
  });
  after(() => {
    index.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('equals the exhaustive newest-first order for common and rare words, phrases and mixed queries', () => {
    const db = index.days().map((d) => index.day(d))[0].db;
    const exhaustive = (q: string, limit: number) => {
      const c = compileQuery(q);
      const parts = ["site_id = 's1'", 'id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)'];
      if (c.sql) parts.push(`(${c.sql})`);
      return (
        db
          .prepare(`SELECT id FROM logs WHERE ${parts.join(' AND ')} ORDER BY t DESC, id DESC LIMIT ?`)
          .all(c.fts, ...c.params, limit) as { id: number }[]
      ).map((r) => r.id);
    };
    for (const q of [
      'GET',
      'kibana',
      '"Googlebot/2.1"',
      'favicon*',
      'GET AND status:404',
      'elasticsearch AND bytes>10000',
    ]) {
      for (const page of [0, 3]) {
        const got = searchLogs(index, { siteId: 's1', q, from: null, to: null }, page, 50).hits.map(
          (h) => h.id,
        );
        const want = exhaustive(q, page * 50 + 50).slice(page * 50);
        if (page === 0) assert.ok(want.length > 0, q);
        assert.deepEqual(got, want, `${q} page ${page}`);
      }
    }
    // The late lines are on the first page of a word they contain.
    const first = searchLogs(index, { siteId: 's1', q: 'GET', from: null, to: null }, 0, 50).hits;
    assert.ok(first.some((h) => h.id % 97 === 6));
  });
});

describe('malformed queries', () => {
  const bad = (q: string, message: RegExp, position: number) => {
    assert.throws(
      () => compileQuery(q),
      (err: unknown) => {
        assert.ok(err instanceof LogQueryError, `${q}: ${String(err)}`);
        assert.match(err.message, message);
        assert.equal(err.position, position, `${q}: ${err.message}`);
        return true;
      },
    );
  };
  it('points at the mistake', () => {
    bad('status:500 AND "unclosed', /unclosed quote/, 15);
    bad('(status:500 OR kibana', /"\(" is never closed/, 0);
    bad('status:500)', /without a matching/, 10);
    bad('colour:red', /unknown field "colour"/, 0);
    bad('status:abc', /needs a number/, 7);
    bad('path:[1 TO 2]', /not numeric/, 5);
    bad('ki*ana', /wildcard may only end a word/, 0);
    bad('x:y:z', /unknown field "x"/, 0);
    bad('status:500 AND OR kibana', /unexpected text/, 17);
    bad('status:[500 TO', /range "\[" is never closed/, 7);
    bad('a OR', /ends too early/, 4);
    bad('NEAR(a b)', /unexpected text/, 8);
    bad('bytes>big', /needs a number/, 6);
  });
  it('never hands FTS5 syntax through', () => {
    for (const q of ['NEAR(a b)', 'a OR', '"a" * "b"', '^x', 'title:x', '-', 'AND', '*']) {
      try {
        const c = compileQuery(q);
        assert.ok(c.fts === null || c.fts.startsWith('"') || c.fts.startsWith('('), q);
      } catch (err) {
        assert.ok(err instanceof LogQueryError, `${q}: ${String(err)}`);
      }
    }
  });
});
