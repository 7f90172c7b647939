import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlString } from '../src/lake/writer.js';
import { startServer } from '../src/testing/server-process.js';
import { type Bench, type BenchOptions, fmt, median, percentile, rmrf, scratchDir, sleep } from './lib.js';

/**
 * (e) Event → queryable-in-SQL latency. A server takes a steady LOAD_RATE events/s (batches
 * of 20 every 20 ms); every MARK_EVERY_MS a marked event (unique product_id) is sent alone,
 * and a poller asks `POST /api/v1/query` every POLL_MS for the marks it has not seen yet. A
 * mark's latency runs from just before its POST to the answer of the first query that returns
 * it (so it includes one query and up to one poll interval). Baseline (the floor): the same
 * write → read through raw DuckDB, a 1000-row Parquet file written by COPY and read back with
 * a filter on the mark.
 */
const LOAD_RATE = 1000;
const LOAD_BATCH = 20;
const MARK_EVERY_MS = 250;
const POLL_MS = 100;

async function duckdbFloor(n: number): Promise<number[]> {
  const dir = scratchDir('latency-floor');
  const db = await DuckDBInstance.create(':memory:', { threads: '2' });
  const conn = await db.connect();
  const out: number[] = [];
  try {
    mkdirSync(join(dir, 'lake'), { recursive: true });
    for (let i = 0; i < n; i++) {
      const mark = `mark-${i}`;
      const file = join(dir, 'lake', `f${i}.parquet`);
      const t = performance.now();
      await conn.run(
        `COPY (SELECT CASE WHEN range = 500 THEN ${sqlString(mark)} ELSE 'p' || range END AS product_id,
            now() AS event_time, 'view' AS event_type, 9.99 AS price FROM range(1000))
          TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`,
      );
      const r = await conn.runAndReadAll(
        `SELECT count(*) FROM read_parquet(${sqlString(join(dir, 'lake', '*.parquet'))}) WHERE product_id = ${sqlString(mark)}`,
      );
      if (Number(r.getRowsJS()[0][0]) !== 1) throw new Error('floor: mark not read back');
      out.push(performance.now() - t);
    }
  } finally {
    conn.closeSync();
    db.closeSync();
    rmrf(dir);
  }
  return out;
}

export const latency: Bench = {
  id: 'e',
  title: 'event → queryable-in-SQL latency under load',
  async run(o: BenchOptions) {
    const marks = o.quick ? 12 : 40;
    const server = await startServer();
    const run = randomUUID().slice(0, 8);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${server.writeKey}` };
    let stop = false;
    let loadSent = 0;
    let loadFailed = 0;
    const sentAt = new Map<string, number>();
    const seenAfter = new Map<string, number>();
    const notes: string[] = [];
    let deadline = Number.POSITIVE_INFINITY;

    // Steady background load, paced against the clock so slow answers do not lower the rate.
    const load = (async () => {
      const started = performance.now();
      let n = 0;
      while (!stop) {
        const due = started + (n * LOAD_BATCH * 1000) / LOAD_RATE;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        const events = Array.from({ length: LOAD_BATCH }, (_, i) => ({
          type: 'view',
          product_id: `load-${(n * LOAD_BATCH + i) % 5000}`,
          price: 9.99,
        }));
        n++;
        fetch(`${server.url}/api/v1/events`, { method: 'POST', headers, body: JSON.stringify({ events }) })
          .then(async (r) => {
            await r.arrayBuffer();
            if (r.ok) loadSent += LOAD_BATCH;
            else loadFailed++;
          })
          .catch(() => loadFailed++);
      }
    })();

    const query = async (sql: string) => {
      const r = await fetch(`${server.url}/api/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${server.apiKey}` },
        body: JSON.stringify({ sql, maxRows: 10_000 }),
      });
      const body = (await r.json()) as { rows?: { product_id: string }[]; error?: string };
      if (!r.ok) throw new Error(`query failed: ${body.error}`);
      return body.rows ?? [];
    };

    const poller = (async () => {
      let queries = 0;
      let queryMs = 0;
      while (!stop || seenAfter.size < sentAt.size) {
        const pending = [...sentAt.keys()].filter((k) => !seenAfter.has(k));
        if (pending.length > 0) {
          const t = performance.now();
          const rows = await query(
            `SELECT product_id FROM events WHERE product_id IN (${pending.map(sqlString).join(', ')})`,
          );
          const now = performance.now();
          queries++;
          queryMs += now - t;
          for (const r of rows)
            if (!seenAfter.has(r.product_id)) seenAfter.set(r.product_id, now - sentAt.get(r.product_id)!);
        }
        if (stop && performance.now() > deadline) break;
        await sleep(POLL_MS);
      }
      notes.push(`${queries} polling queries, mean ${fmt(queryMs / Math.max(queries, 1))} ms each`);
    })();

    let floor: number[] = [];
    try {
      await sleep(3000); // let the load settle (first flushes, compiled code)
      for (let i = 0; i < marks; i++) {
        const id = `mark-${run}-${i}`;
        sentAt.set(id, performance.now());
        const r = await fetch(`${server.url}/api/v1/events`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ type: 'view', product_id: id, price: 1 }),
        });
        await r.arrayBuffer();
        if (!r.ok) throw new Error(`mark ${id} refused: ${r.status}`);
        await sleep(MARK_EVERY_MS);
      }
      deadline = performance.now() + 30_000;
      stop = true;
      await poller;
      await load;
      floor = await duckdbFloor(o.quick ? 10 : 30);
    } finally {
      stop = true;
      await server.stop();
      server.cleanup();
    }
    const lat = [...seenAfter.values()];
    const missing = sentAt.size - lat.length;
    if (missing > 0)
      notes.push(`${missing} mark(s) not visible within 30 s after the last was sent (counted as ∞)`);
    if (loadFailed > 0) notes.push(`${loadFailed} load request(s) failed`);
    const all = [...lat, ...Array.from({ length: missing }, () => Number.POSITIVE_INFINITY)];
    const p50 = percentile(all, 50);
    const p99 = percentile(all, 99);
    const floorP50 = median(floor);
    o.log(
      `  p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms over ${all.length} marks; raw DuckDB write→read p50 ${fmt(floorP50, 1)} ms, p99 ${fmt(percentile(floor, 99), 1)} ms`,
    );
    return {
      id: 'e',
      name: 'event → queryable latency, p99 (p50 in notes)',
      unit: 'ms',
      value: p99,
      baselineName: 'raw DuckDB: COPY 1000 rows to Parquet, read back (p99)',
      baseline: percentile(floor, 99),
      ratio: p99 / percentile(floor, 99),
      goal: 'p99 ≤ 5,000 ms',
      pass: p99 <= 5000,
      samples: { value: all, baseline: floor },
      notes: [
        `p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms, max ${fmt(Math.max(...all))} ms over ${all.length} marks; floor p50 ${fmt(floorP50, 1)} ms; ratio here is value / floor (lower is better)`,
        `background load ${LOAD_RATE} events/s in batches of ${LOAD_BATCH} (${fmt(loadSent)} acknowledged), polling every ${POLL_MS} ms, default lake.flushIntervalMs (1000 ms)`,
        ...notes,
      ],
    };
  },
};
