import { linkSync, mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startServer } from '../src/testing/server-process.js';
import { type Bench, type BenchOptions, fmt, median, percentile, rmrf, scratchDir, sleep } from './lib.js';
import { fillOrders, shapeFor } from './orders-fill.js';

/**
 * (h) Order-history lookups at 40 M events. orders.sqlite is filled directly with what a 40 M-event
 * store holds (bench/orders-fill.ts: 600k one-line orders of 211k buyers, 3.0 M customers and
 * their recent activity), hard-linked into a fresh data dir, and a real `storepulse serve` answers
 * `GET /api/v1/sites/default/users/<buyer>/orders?limit=20` (admin API key) for random buyers,
 * sent open-loop at a steady RATE per second from this process (node fetch, keep-alive); latency
 * runs from each request's send to the end of its body. Baseline, alternating with it: the same
 * lookups (page query + each order's lines, the store's own SQL) through better-sqlite3 in this
 * process on the same file, paced the same.
 */
const RATE = 1000;
const LIMIT = 20;

/** Calls `fire` RATE times a second for `seconds`, without waiting for answers; returns latencies. */
async function paced(
  seconds: number,
  fire: () => Promise<number>,
): Promise<{ lat: number[]; rate: number; failed: number }> {
  const n = Math.round(RATE * seconds);
  const lat: number[] = [];
  const pending: Promise<void>[] = [];
  let failed = 0;
  const start = performance.now();
  for (let i = 0; i < n; ) {
    const due = start + (i * 1000) / RATE;
    const now = performance.now();
    if (now < due) {
      await sleep(Math.max(0, due - now));
      continue;
    }
    // Catch up on every request due by now (timers fire late by a millisecond or so).
    for (; i < n && start + (i * 1000) / RATE <= performance.now(); i++) {
      pending.push(
        fire().then(
          (ms) => void lat.push(ms),
          () => void failed++,
        ),
      );
    }
  }
  const sent = performance.now() - start;
  await Promise.all(pending);
  return { lat, rate: (n / sent) * 1000, failed };
}

/** CPU seconds a process has used (Linux /proc; utime + stime at 100 ticks/s). */
function cpuSeconds(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function rawLookup(file: string) {
  const db = new Database(file, { readonly: true });
  const page = db.prepare(
    'SELECT * FROM orders WHERE site = ? AND customer = ? ORDER BY time DESC, order_id DESC LIMIT ?',
  );
  const lines = db.prepare(
    'SELECT * FROM order_lines WHERE site = ? AND order_id = ? ORDER BY time, event_id',
  );
  return {
    lookup(user: string): number {
      const t = performance.now();
      const orders = page.all('default', user, LIMIT + 1) as { order_id: string }[];
      let n = 0;
      for (const o of orders.slice(0, LIMIT)) n += lines.all('default', o.order_id).length;
      if (orders.length === 0 || n === 0) throw new Error(`no orders for ${user}`);
      return performance.now() - t;
    },
    close: () => db.close(),
  };
}

export const ordersBench: Bench = {
  id: 'h',
  title: 'order-history lookups at 40 M events (HTTP, 1000 req/s)',
  async run(o: BenchOptions) {
    const events = o.quick ? 4_000_000 : 40_000_000;
    const shape = shapeFor(events);
    o.log(`    order store for ${fmt(events)} events (cached after the first fill)…`);
    const filled = fillOrders(shape, o.log);
    o.log(
      `    ${filled.reused ? 'reused' : `filled in ${fmt(filled.fillSeconds)} s:`} ${fmt(filled.counts.orders)} orders, ${fmt(filled.counts.customers)} customers, ${fmt(filled.counts.activity)} activity rows`,
    );
    const runs = o.quick ? 1 : 3;
    const seconds = o.quick ? 3 : 10;
    let seed = 1;
    const pick = () => {
      seed = (seed * 48271) % 2147483647;
      return filled.buyers[seed % filled.buyers.length];
    };

    const dataDir = scratchDir('orders');
    mkdirSync(dataDir, { recursive: true });
    linkSync(filled.file, join(dataDir, 'orders.sqlite'));
    const server = await startServer({ dataDir });
    const raw = rawLookup(filled.file);
    const http = async () => {
      const user = pick();
      const t = performance.now();
      const res = await fetch(`${server.url}/api/v1/sites/default/users/${user}/orders?limit=${LIMIT}`, {
        headers: { authorization: `Bearer ${server.apiKey}` },
      });
      const body = (await res.json()) as { orders?: unknown[] };
      if (!res.ok || !body.orders?.length) throw new Error(`${res.status} for ${user}`);
      return performance.now() - t;
    };
    const value: number[] = [];
    const baseline: number[] = [];
    const notes: string[] = [];
    try {
      o.log('    warm-up (2 s of each)…');
      await paced(2, http);
      await paced(2, async () => raw.lookup(pick()));
      for (let run = 0; run < runs; run++) {
        const cpu0 = cpuSeconds(server.child.pid);
        const h = await paced(seconds, http);
        const cpuMs = ((cpuSeconds(server.child.pid) - cpu0) * 1000) / h.lat.length;
        if (h.failed > 0) throw new Error(`${h.failed} lookups failed`);
        const b = await paced(seconds, async () => raw.lookup(pick()));
        const hp = { p50: percentile(h.lat, 50), p99: percentile(h.lat, 99), max: Math.max(...h.lat) };
        const bp = { p50: percentile(b.lat, 50), p99: percentile(b.lat, 99) };
        value.push(hp.p99);
        baseline.push(bp.p99);
        o.log(
          `    run ${run + 1}: HTTP p50 ${hp.p50.toFixed(2)} ms, p99 ${hp.p99.toFixed(2)} ms, max ${hp.max.toFixed(1)} ms at ${fmt(h.rate)} req/s (server CPU ${cpuMs.toFixed(2)} ms per lookup); raw p50 ${bp.p50.toFixed(3)} ms, p99 ${bp.p99.toFixed(3)} ms; load ${loadavg()[0].toFixed(1)}`,
        );
        notes.push(
          `run ${run + 1}: HTTP p50 ${hp.p50.toFixed(2)} / p99 ${hp.p99.toFixed(2)} / max ${hp.max.toFixed(1)} ms (${h.lat.length} lookups at ${fmt(h.rate)} req/s, server CPU ${cpuMs.toFixed(2)} ms per lookup); better-sqlite3 p50 ${bp.p50.toFixed(3)} / p99 ${bp.p99.toFixed(3)} ms`,
        );
      }
    } finally {
      raw.close();
      await server.stop();
      server.cleanup();
      rmrf(dataDir);
    }
    notes.unshift(
      `store: ${fmt(filled.counts.orders)} orders / ${fmt(filled.counts.lines)} lines of ${fmt(filled.buyers.length)} buyers, ${fmt(filled.counts.customers)} customers, ${fmt(filled.counts.activity)} activity rows (shape of ${fmt(events)} REES46-like events)${filled.reused ? ', cached fill' : `, filled in ${fmt(filled.fillSeconds)} s`}`,
    );
    const v = median(value);
    const b = median(baseline);
    return {
      id: 'h',
      name: `order-history lookup p99, ${fmt(events / 1e6)} M events, ${RATE} req/s`,
      unit: 'ms',
      value: v,
      baselineName: 'better-sqlite3: the same page + lines queries in process, same pace',
      baseline: b,
      ratio: median(value.map((x, i) => x / baseline[i])),
      goal: 'p99 ≤ 10 ms',
      pass: v <= 10,
      samples: { value, baseline },
      notes,
    };
  },
};
