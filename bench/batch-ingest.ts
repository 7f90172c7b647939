import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startServer } from '../src/testing/server-process.js';
import { type Bench, type BenchOptions, fmt, median, rmrf, scratchDir, wrk } from './lib.js';

/**
 * (b) Batched HTTP ingest: wrk POSTs `{"events": [1000 events]}` over CONNECTIONS keep-alive
 * connections; events/s = acknowledged (2xx, fsynced) requests/s × 1000. Baseline: raw
 * better-sqlite3 inserts of the same 1000 event JSON texts, one transaction per batch, WAL +
 * synchronous=FULL (an fsync per batch), into a plain (rowid, value) table.
 */
export const CONNECTIONS = 8;
const BATCH = 1000;

export function batchEvents(): string[] {
  const types = ['view', 'view', 'view', 'view', 'cart', 'purchase'];
  return Array.from({ length: BATCH }, (_, i) =>
    JSON.stringify({
      type: types[i % types.length],
      product_id: String(100_000 + ((i * 7919) % 50_000)),
      category_code: 'electronics.smartphone',
      brand: 'acme',
      price: Math.round(((i * 37) % 100_000) + 99) / 100,
      user_id: String(500_000 + (i % 300)),
      session_id: `s-${i % 300}`,
    }),
  );
}

function rawSqlite(dir: string, events: string[], seconds: number): number {
  const db = new Database(join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('DROP TABLE IF EXISTS events; CREATE TABLE events (id INTEGER PRIMARY KEY, value TEXT NOT NULL)');
  const insert = db.prepare('INSERT INTO events (value) VALUES (?)');
  const batch = db.transaction((rows: string[]) => {
    for (const r of rows) insert.run(r);
  });
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    batch(events);
    n += events.length;
  }
  const rate = n / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

export const batchIngest: Bench = {
  id: 'b',
  title: 'batched HTTP ingest (1000 events per request)',
  async run(o: BenchOptions) {
    const seconds = o.quick ? 3 : 8;
    const reps = o.quick ? 1 : 3;
    const events = batchEvents();
    const body = `{"events":[${events.join(',')}]}`;
    const server = await startServer();
    const post = {
      url: `${server.url}/api/v1/events`,
      connections: CONNECTIONS,
      body,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.writeKey}` },
    };
    const value: number[] = [];
    const baseline: number[] = [];
    const ratios: number[] = [];
    const notes: string[] = [];
    const dir = scratchDir('batch');
    try {
      await wrk({ ...post, seconds: 2 });
      for (let rep = 0; rep < reps; rep++) {
        const r = await wrk({ ...post, seconds });
        if (r.non2xx > 0 || r.errors > 0)
          notes.push(
            `run ${rep + 1}: ${r.non2xx} non-2xx answers, ${r.errors} socket errors from storepulse`,
          );
        const ours = ((r.requests - r.non2xx) * BATCH) / r.seconds;
        const raw = rawSqlite(dir, events, Math.min(seconds, 4));
        value.push(ours);
        baseline.push(raw);
        ratios.push(ours / raw);
        o.log(
          `  rep ${rep + 1}: storepulse ${fmt(ours)} events/s (${fmt(r.rps, 1)} req/s, p99 ${fmt(r.latencyP99Ms)} ms), raw SQLite ${fmt(raw)} events/s`,
        );
      }
    } finally {
      rmrf(dir);
      await server.stop();
      server.cleanup();
    }
    const v = median(value);
    return {
      id: 'b',
      name: 'batched HTTP ingest, durable ack',
      unit: 'events/s',
      value: v,
      baselineName: 'better-sqlite3, same JSON, 1 txn + fsync per 1000',
      baseline: median(baseline),
      ratio: median(ratios),
      goal: '≥ 500,000 events/s',
      pass: v >= 500_000,
      samples: { value, baseline },
      notes: [
        `wrk 1 thread, ${CONNECTIONS} connections, batches of ${BATCH} (${fmt(body.length / 1024)} KiB), ${seconds} s per run, ${reps} run(s)`,
        ...notes,
      ],
    };
  },
};
