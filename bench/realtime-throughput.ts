import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Database from 'better-sqlite3';
import { streamJson } from '../src/collector/ingest.js';
import type { CanonicalEvent } from '../src/events/model.js';
import { fromWire } from '../src/events/normalise.js';
import { RealtimeProcessor } from '../src/realtime/processor.js';
import { TOPICS } from '../src/stream/event-log.js';
import { SqliteEventLog } from '../src/stream/sqlite-log.js';
import { ctx } from '../src/testing/ingest-context.js';
import { type Bench, type BenchOptions, fmt, median, rmrf, scratchDir, sleep } from './lib.js';

/**
 * (f) Realtime processor throughput. A SqliteEventLog topic 'events' is pre-filled with N
 * canonical events (fromWire + streamJson, varied visitors/products/types, desktop Chrome,
 * event times over the last 30 minutes); a fresh RealtimeProcessor is timed from start() until
 * status() shows it has consumed position N. CPU (process.cpuUsage) and peak RSS/heap are
 * sampled while it runs. Baseline (the floor any consumer pays): the same records read from the
 * same table with better-sqlite3 in batches of 1000 (the consumer's query) and JSON.parse'd.
 */
const SITE = 'shop';
const SPAN_MS = 30 * 60_000;
const TYPES = [
  'page_view',
  'page_view',
  'page_view',
  'page_view',
  'view',
  'view',
  'view',
  'cart',
  'cart',
  'checkout',
  'purchase',
  'remove_from_cart',
];
const CATEGORIES = ['electronics.smartphone', 'appliances.kitchen', 'apparel.shoes', 'computers.notebook'];
const BRANDS = ['acme', 'samsung', 'apple', 'xiaomi', 'bosch', 'nike'];

/** Deterministic pseudo-random numbers (mulberry32), so every run fills the same stream. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeEvents(n: number, end: number): CanonicalEvent[] {
  const r = rng(42);
  const start = end - SPAN_MS;
  const out: CanonicalEvent[] = [];
  for (let i = 0; i < n; i++) {
    // Mostly in order, with a few seconds of jitter as real trackers deliver.
    const time = Math.round(start + (i / n) * SPAN_MS - r() * 3000);
    const visitor = Math.floor(r() * 20_000);
    const product = Math.floor(r() ** 2 * 5000);
    const type = TYPES[Math.floor(r() * TYPES.length)];
    const price = Math.round(r() * 50_000 + 99) / 100;
    const wire: Record<string, unknown> = {
      type,
      time,
      visitor_id: `v-${visitor}`,
      session_id: `s-${visitor}-${Math.floor(i / 50_000)}`,
      url: `https://shop.example/${type === 'page_view' ? 'c' : 'p'}/${product}`,
      referrer: r() < 0.3 ? 'https://www.google.com/' : undefined,
    };
    if (type !== 'page_view') {
      wire.product_id = String(100_000 + product);
      wire.category_code = CATEGORIES[product % CATEGORIES.length];
      wire.brand = BRANDS[product % BRANDS.length];
      wire.price = price;
    }
    if (type === 'purchase') {
      wire.order_id = `o-${i}`;
      wire.quantity = 1 + (i % 3);
      wire.currency = 'EUR';
    }
    const m = fromWire(wire, ctx({ siteId: SITE, receivedAt: time + 50 + Math.floor(r() * 200) }));
    if (!m.ok) throw new Error(`fromWire refused a generated event: ${m.reason}`);
    out.push(m.value);
  }
  return out;
}

async function fill(dir: string, n: number): Promise<{ bytes: number }> {
  const log = new SqliteEventLog({ dir, fsync: false });
  const events = makeEvents(n, Date.now());
  let bytes = 0;
  for (let i = 0; i < events.length; i += 10_000) {
    const chunk = events.slice(i, i + 10_000).map((e) => {
      const value = streamJson(e);
      bytes += value.length;
      return { key: `${e.site_id}:${e.event_id}`, value, timestamp: e.received_at };
    });
    await log.append(TOPICS.events, chunk);
  }
  await log.close();
  return { bytes };
}

/** The floor: read every record in position order, 1000 at a time, and JSON.parse it. */
function rawRead(file: string, n: number): number {
  const db = new Database(file, { readonly: true });
  const stmt = db.prepare(
    `SELECT position, key, ts AS timestamp, value FROM "t_${TOPICS.events}" WHERE position > ? ORDER BY position LIMIT ?`,
  );
  const t = performance.now();
  let pos = 0;
  let count = 0;
  let check = 0;
  for (;;) {
    const rows = stmt.all(pos, 1000) as { position: number; value: string }[];
    if (rows.length === 0) break;
    for (const r of rows) {
      const e = JSON.parse(r.value) as { event_time: number };
      check += e.event_time > 0 ? 1 : 0;
    }
    count += rows.length;
    pos = rows[rows.length - 1].position;
  }
  const ms = performance.now() - t;
  db.close();
  if (count !== n || check !== n) throw new Error(`raw read saw ${count} records, expected ${n}`);
  return (n / ms) * 1000;
}

interface ProcRun {
  rate: number;
  ms: number;
  cpuMs: number;
  peakRss: number;
  peakHeap: number;
  rssBefore: number;
  /** Heap still used by the running processor after catching up (after a full GC). */
  retainedHeap: number;
  events: number;
  errors: number;
}

async function processorRun(streamDir: string, n: number): Promise<ProcRun> {
  const dataDir = scratchDir('realtime-state');
  const log = new SqliteEventLog({ dir: streamDir, fsync: false });
  let errors = 0;
  const rt = new RealtimeProcessor({ log, dataDir, onError: () => errors++ });
  fullGc();
  const heapBefore = process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  let peakHeap = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const t = performance.now();
  try {
    await rt.start();
    for (;;) {
      const m = process.memoryUsage();
      if (m.rss > peakRss) peakRss = m.rss;
      if (m.heapUsed > peakHeap) peakHeap = m.heapUsed;
      if ((rt.status().positions[TOPICS.events] ?? 0) >= n) break;
      if (performance.now() - t > 300_000) throw new Error('the processor did not catch up in 5 minutes');
      await sleep(5);
    }
    const ms = performance.now() - t;
    const cpu = process.cpuUsage(cpu0);
    const events = rt.snapshot(SITE, { range: 'live' }).totals.events;
    fullGc();
    const retainedHeap = process.memoryUsage().heapUsed - heapBefore;
    return {
      rate: (n / ms) * 1000,
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      peakRss,
      peakHeap,
      rssBefore,
      retainedHeap,
      events,
      errors,
    };
  } finally {
    await rt.stop();
    await log.close();
    rmrf(dataDir);
  }
}

/** A full GC, so heap figures are live data rather than garbage (works without --expose-gc). */
function fullGc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const MiB = (b: number) => `${fmt(b / 2 ** 20)} MiB`;

export const realtimeThroughput: Bench = {
  id: 'f',
  title: 'realtime processor throughput (pre-filled SQLite stream)',
  async run(o: BenchOptions) {
    const n = o.quick ? 100_000 : 300_000;
    const reps = o.quick ? 1 : 3;
    const dir = scratchDir('realtime-throughput');
    const value: number[] = [];
    const baseline: number[] = [];
    const ratios: number[] = [];
    const runs: ProcRun[] = [];
    try {
      const tf = performance.now();
      const { bytes } = await fill(dir, n);
      o.log(
        `  filled ${fmt(n)} events (${fmt(bytes / n)} B each as streamJson) in ${fmt((performance.now() - tf) / 1000, 1)} s`,
      );
      const file = join(dir, 'stream.sqlite');
      rawRead(file, n); // warm the page cache and the JIT
      for (let rep = 0; rep < reps; rep++) {
        const raw = rawRead(file, n);
        const r = await processorRun(dir, n);
        value.push(r.rate);
        baseline.push(raw);
        ratios.push(r.rate / raw);
        runs.push(r);
        o.log(
          `  run ${rep + 1}: processor ${fmt(r.rate)} events/s (${fmt(r.ms)} ms, CPU ${fmt(r.cpuMs)} ms = ${fmt(r.cpuMs / r.ms, 2)} cores, peak RSS ${MiB(r.peakRss)} from ${MiB(r.rssBefore)}, peak heap ${MiB(r.peakHeap)}, state ${MiB(r.retainedHeap)}; totals.events ${fmt(r.events)}), raw read+parse ${fmt(raw)} events/s`,
        );
      }
    } finally {
      rmrf(dir);
    }
    const v = median(value);
    const mid = runs[value.indexOf(v)] ?? runs[0];
    const notes = [
      `${fmt(n)} events of one site over 30 min (20k visitors, 5k products, 12-way type mix, desktop Chrome), streamJson records; runs: ${value.map((x) => fmt(x)).join(', ')} events/s vs raw ${baseline.map((x) => fmt(x)).join(', ')}`,
      `median run: ${fmt(mid.ms)} ms wall, ${fmt(mid.cpuMs)} ms CPU (${fmt(mid.cpuMs / mid.ms, 2)} cores; ${fmt((mid.cpuMs * 1000) / n, 2)} µs CPU per event), peak heap used ${MiB(mid.peakHeap)}; RSS growth while processing per run: ${runs.map((r) => `+${MiB(r.peakRss - r.rssBefore)} over ${MiB(r.rssBefore)}`).join(', ')} (the process's RSS before start still holds the fill's garbage), heap retained by the processor's state after a full GC ${MiB(mid.retainedHeap)}; snapshot totals.events ${fmt(mid.events)} of ${fmt(n)}${mid.errors ? `, ${mid.errors} errors` : ''}`,
    ];
    return {
      id: 'f',
      name: 'realtime processor throughput',
      unit: 'events/s',
      value: v,
      baselineName: 'better-sqlite3 read of the same records, 1000/batch, + JSON.parse',
      baseline: median(baseline),
      ratio: median(ratios),
      goal: '≥ 200,000 events/s',
      pass: v >= 200_000,
      samples: { value, baseline },
      notes,
    };
  },
};
