import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LogIndex } from '../src/logs/index/log-index.js';
import { LogIndexSink } from '../src/logs/index/log-index-sink.js';
import type { LogRecord } from '../src/logs/log-record.js';
import {
  compilePathPatterns,
  createLineParser,
  DEFAULT_PATH_PATTERNS,
} from '../src/logs/parse/line-parser.js';
import { searchLogs } from '../src/logs/search/log-search.js';
import { SqliteEventLog } from '../src/stream/sqlite-log.js';
import { type Bench, type BenchOptions, fmt, median, percentile, rmrf, scratchDir, sleep } from './lib.js';

/**
 * (j) Log analytics. The real Apache log (10,000 lines) is repeated with shifted times to
 * LINES lines of one day, parsed once, then:
 *  - indexing throughput: LogIndex (rows + FTS5, positions saved with them) in batches of
 *    20,000, against raw FTS5 inserts of the same raw lines into a bare fts5 table, same run;
 *  - search latency (first page of 50, newest first) for a term, a phrase, a field and a range,
 *    against `grep -c` over the same lines as a file and a raw FTS5 count;
 *  - line → searchable: single lines appended to a SQLite stream at 200/s, consumed by the
 *    index sink; the time until the line's row is visible to a search.
 */
const APACHE_LOG = join(import.meta.dirname, '..', 'test-data', 'apache_logs');
const BATCH = 20_000;
const QUERIES: { name: string; q: string; grep: string[]; fts: string }[] = [
  { name: 'term', q: 'kibana', grep: ['-i', '-w', 'kibana'], fts: '"kibana"' },
  { name: 'phrase', q: '"Googlebot/2.1"', grep: ['-F', 'Googlebot/2.1'], fts: '"Googlebot/2.1"' },
  { name: 'field', q: 'status:404', grep: ['-F', '" 404 '], fts: '"404"' },
  { name: 'range', q: 'bytes>100000', grep: ['-E', '" [0-9]{3} [0-9]{6,} '], fts: '"200"' },
];

/**
 * The real log's lines, parsed once, and line i of a LINES-line day made from them on demand (the
 * raw line repeats every 10,000; its time grows with i), so 10 M lines need no 10 M objects.
 */
function buildLines(total: number) {
  const base = readFileSync(APACHE_LOG, 'utf8').split('\n').filter(Boolean);
  const parser = createLineParser('apache', {
    anonymizeIp: false,
    pathPatterns: compilePathPatterns(DEFAULT_PATH_PATTERNS),
  });
  const day = Date.UTC(2024, 0, 10);
  const parse = (raw: string) => parser.line(raw, { siteId: 'default', source: 'apache', receivedAt: day });
  // Parsing speed, over up to 200,000 lines (UA parses are cached, as in the server).
  const n = Math.min(total, 200_000);
  const t = performance.now();
  for (let i = 0; i < n; i++) parse(base[i % base.length]);
  const parseRate = n / ((performance.now() - t) / 1000);
  const records = base.map(parse);
  return {
    parseRate,
    line: (i: number) => base[i % base.length],
    // One day, in order: the time of day grows with the line number.
    record: (i: number): LogRecord => ({
      ...records[i % records.length],
      log_time: day + Math.floor((i / total) * 86_399_000),
    }),
  };
}

export const logsBench: Bench = {
  id: 'j',
  title: 'log analytics: indexing lines/s vs raw FTS5, search p95 vs grep -c and raw FTS5, line → searchable',
  async run(o: BenchOptions) {
    const total = o.quick ? 100_000 : Number(process.env.BENCH_LOG_LINES ?? 10_000_000);
    const dir = scratchDir('logs');
    const notes: string[] = [];
    try {
      o.log(`logs: parsing ${fmt(total)} lines`);
      const { parseRate, line, record } = buildLines(total);
      let t = performance.now();

      // Indexing, ours and raw, alternating batch by batch so load changes hit both alike.
      const index = new LogIndex(join(dir, 'index'));
      const raw = new Database(join(dir, 'raw-fts.sqlite'));
      raw.pragma('journal_mode = WAL');
      raw.pragma('synchronous = NORMAL');
      raw.exec('CREATE VIRTUAL TABLE f USING fts5 (raw)');
      const rawInsert = raw.prepare('INSERT INTO f (raw) VALUES (?)');
      const rawBatch = raw.transaction((xs: string[]) => {
        for (const x of xs) rawInsert.run(x);
      });
      let oursMs = 0;
      let rawMs = 0;
      const oursRates: number[] = [];
      const rawRates: number[] = [];
      for (let i = 0; i < total; i += BATCH) {
        const n = Math.min(BATCH, total - i);
        const batch = Array.from({ length: n }, (_, j) => ({ position: i + j + 1, record: record(i + j) }));
        const texts = batch.map((b) => b.record.raw);
        t = performance.now();
        index.applyFromStream('logs', batch);
        const a = performance.now() - t;
        t = performance.now();
        rawBatch(texts);
        const b = performance.now() - t;
        oursMs += a;
        rawMs += b;
        oursRates.push(batch.length / (a / 1000));
        rawRates.push(batch.length / (b / 1000));
        if ((i / BATCH) % 25 === 0) o.log(`logs: indexed ${fmt(i + batch.length)} of ${fmt(total)} lines`);
      }
      const oursRate = total / (oursMs / 1000);
      const rawRate = total / (rawMs / 1000);
      notes.push(
        `indexing ${fmt(total)} lines: ours ${fmt(oursRate)} lines/s (rows + FTS5 + positions), raw FTS5 ${fmt(rawRate)} lines/s; parsing alone ${fmt(parseRate)} lines/s`,
      );

      // Search latency.
      const file = join(dir, 'access.log');
      const fd = openSync(file, 'w');
      for (let i = 0; i < total; i += BATCH) {
        const chunk: string[] = [];
        for (let j = i; j < Math.min(total, i + BATCH); j++) chunk.push(line(j));
        writeSync(fd, `${chunk.join('\n')}\n`);
      }
      closeSync(fd);
      const reps = o.quick ? 5 : 20;
      let worstP95 = 0;
      for (const query of QUERIES) {
        const ours: number[] = [];
        const fts: number[] = [];
        const grep: number[] = [];
        let hits = 0;
        for (let r = 0; r < reps; r++) {
          t = performance.now();
          hits = searchLogs(index, { siteId: 'default', q: query.q, from: null, to: null }, 0, 50).hits
            .length;
          ours.push(performance.now() - t);
          t = performance.now();
          raw.prepare('SELECT count(*) FROM f WHERE f MATCH ?').get(query.fts);
          fts.push(performance.now() - t);
          if (r < 3) {
            t = performance.now();
            try {
              execFileSync('grep', ['-c', ...query.grep, file]);
            } catch {
              // exit 1: no match
            }
            grep.push(performance.now() - t);
          }
        }
        const p95 = percentile(ours, 95);
        worstP95 = Math.max(worstP95, p95);
        notes.push(
          `search ${query.name} \`${query.q}\` (${hits} hits on page 1): p95 ${fmt(p95, 1)} ms, median ${fmt(median(ours), 1)} ms; raw FTS5 count p95 ${fmt(percentile(fts, 95), 1)} ms; grep -c median ${fmt(median(grep), 0)} ms`,
        );
      }

      // Line → searchable.
      const stream = new SqliteEventLog({ dir: join(dir, 'stream'), fsync: true });
      const liveIndex = new LogIndex(join(dir, 'live-index'));
      const sink = new LogIndexSink({ log: stream, index: liveIndex });
      await sink.start();
      const delays: number[] = [];
      const seconds = o.quick ? 3 : 10;
      const sent: { at: number; position: number }[] = [];
      const now = Date.now();
      const probe = record(0);
      const pending: Promise<void>[] = [];
      for (let i = 0; i < seconds * 200; i++) {
        const at = performance.now();
        const rec = { ...probe, log_time: now, raw: `${probe.raw} probe${i}` };
        pending.push(
          stream.append('logs', [{ value: JSON.stringify(rec) }]).then((r) => {
            sent.push({ at, position: r.positions[0] as number });
          }),
        );
        await sleep(5);
        const day = liveIndex.days()[0];
        if (day) {
          const max = (liveIndex.day(day).db.prepare('SELECT max(id) AS m FROM logs').get() as { m: number })
            .m;
          const seen = performance.now();
          for (const s of sent.splice(0)) {
            if (s.position <= max) delays.push(seen - s.at);
            else sent.push(s);
          }
        }
      }
      await Promise.all(pending);
      while (sent.length > 0) {
        await sleep(5);
        const day = liveIndex.days()[0];
        const max = (liveIndex.day(day).db.prepare('SELECT max(id) AS m FROM logs').get() as { m: number }).m;
        const seen = performance.now();
        for (const s of sent.splice(0)) {
          if (s.position <= max) delays.push(seen - s.at);
          else sent.push(s);
        }
      }
      await sink.stop();
      await stream.close();
      liveIndex.close();
      const p99 = percentile(delays, 99);
      notes.push(
        `line → searchable (200 lines/s for ${seconds} s, fsync on): p50 ${fmt(percentile(delays, 50), 0)} ms, p99 ${fmt(p99, 0)} ms (goal ≤ 2000 ms)`,
      );
      notes.push(`search goal p95 ≤ 100 ms: worst ${fmt(worstP95, 1)} ms over ${fmt(total)} lines`);
      index.close();
      raw.close();
      return {
        id: 'j',
        name: `log indexing throughput, ${fmt(total)} Apache lines`,
        unit: 'lines/s',
        value: oursRate,
        baselineName: 'raw SQLite FTS5 inserts of the same lines',
        baseline: rawRate,
        ratio: oursRate / rawRate,
        goal: '≥ 100,000 lines/s; search p95 ≤ 100 ms; line → searchable p99 ≤ 2 s',
        pass: oursRate >= 100_000 && worstP95 <= 100 && p99 <= 2000,
        samples: { value: oursRates, baseline: rawRates },
        notes,
      };
    } finally {
      rmrf(dir);
    }
  },
};
