import { randomUUID } from 'node:crypto';
import { CHROME_UA } from '../src/testing/ingest-context.js';
import { runCli, type ServerProcess, startServer } from '../src/testing/server-process.js';
import { type Bench, type BenchOptions, fmt, median, percentile, sleep } from './lib.js';

/**
 * (g) Acknowledged event → SSE update latency, under load. A real server; the bench subscribes
 * to `GET /api/v1/sites/marker/realtime/stream` (a site of its own, so the 50-item feed is not
 * flooded by the load) and every MARK_EVERY_MS POSTs one marked event (unique event_id, desktop
 * Chrome UA) to it. A mark's latency runs from the HTTP acknowledgement (200, fsynced) to the
 * arrival of the first SSE snapshot whose `recent` holds its event_id. Load: LOAD_RATE events/s
 * to the default site, batches of LOAD_BATCH paced against the clock from this process (wrk
 * cannot hold a fixed rate; at most MAX_IN_FLIGHT requests outstanding, so an overloaded server
 * shows as a lower achieved rate, which is reported). Baseline: the same marks with no load.
 */
const LOAD_RATE = 10_000;
const LOAD_BATCH = 100;
const MAX_IN_FLIGHT = 32;
const MARK_EVERY_MS = 100;

interface Snap {
  recent: { event_id: string }[];
  totals: { events: number };
}

/** Reads an SSE stream, calling `onSnapshot` with each parsed `data:` line and its arrival time. */
function subscribe(url: string, apiKey: string, onSnapshot: (s: Snap, at: number) => void) {
  const controller = new AbortController();
  let count = 0;
  const ready = fetch(url, { headers: { authorization: `Bearer ${apiKey}` }, signal: controller.signal });
  const done = (async () => {
    const res = await ready;
    if (!res.ok || !res.body) throw new Error(`SSE stream answered ${res.status}`);
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      const at = performance.now();
      buf += decoder.decode(chunk, { stream: true });
      let i = buf.indexOf('\n\n');
      while (i >= 0) {
        const data = buf
          .slice(0, i)
          .split('\n')
          .find((l) => l.startsWith('data: '));
        buf = buf.slice(i + 2);
        i = buf.indexOf('\n\n');
        if (data) {
          count++;
          onSnapshot(JSON.parse(data.slice(6)) as Snap, at);
        }
      }
    }
  })().catch((err: Error) => {
    if (err.name !== 'AbortError') throw err;
  });
  return { stop: () => controller.abort(), done, count: () => count };
}

interface Phase {
  /** ack → SSE, ms, ∞ for marks never seen. */
  lat: number[];
  /** send → SSE, ms. */
  sendLat: number[];
  /** SSE showed the mark before the ack arrived. */
  beforeAck: number;
  loadRate: number;
  loadFailed: number;
  loadSkipped: number;
  snapshots: number;
  ackMs: number[];
}

async function phase(
  server: ServerProcess,
  markerKey: string,
  o: { seconds: number; load: boolean; run: string },
): Promise<Phase> {
  const sentAt = new Map<string, number>();
  const ackAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  const sse = subscribe(`${server.url}/api/v1/sites/marker/realtime/stream`, server.apiKey, (s, at) => {
    for (const item of s.recent)
      if (sentAt.has(item.event_id) && !seenAt.has(item.event_id)) seenAt.set(item.event_id, at);
  });
  await sleep(500);

  let stop = false;
  let loadAcked = 0;
  let loadFailed = 0;
  let loadSkipped = 0;
  let loadStarted = 0;
  let loadEnded = 0;
  const body = JSON.stringify({
    events: Array.from({ length: LOAD_BATCH }, (_, i) => ({
      type: ['page_view', 'view', 'view', 'cart', 'purchase'][i % 5],
      product_id: String(100_000 + ((i * 7919) % 5000)),
      category_code: 'electronics.smartphone',
      brand: 'acme',
      price: Math.round(((i * 37) % 100_000) + 99) / 100,
      visitor_id: `load-v-${i % 50}`,
      session_id: `load-s-${i % 50}`,
    })),
  });
  const loadHeaders = {
    'content-type': 'application/json',
    authorization: `Bearer ${server.writeKey}`,
    'user-agent': CHROME_UA,
  };
  const load = o.load
    ? (async () => {
        loadStarted = performance.now();
        let inFlight = 0;
        const pending = new Set<Promise<void>>();
        for (let n = 0; !stop; n++) {
          const wait = loadStarted + (n * LOAD_BATCH * 1000) / LOAD_RATE - performance.now();
          if (wait > 0) await sleep(wait);
          if (inFlight >= MAX_IN_FLIGHT) {
            loadSkipped++;
            continue;
          }
          inFlight++;
          const p = fetch(`${server.url}/api/v1/events`, { method: 'POST', headers: loadHeaders, body })
            .then(async (r) => {
              await r.arrayBuffer();
              if (r.ok) loadAcked += LOAD_BATCH;
              else loadFailed++;
            })
            .catch(() => {
              loadFailed++;
            })
            .finally(() => {
              inFlight--;
              pending.delete(p);
            });
          pending.add(p);
        }
        loadEnded = performance.now();
        await Promise.all(pending);
      })()
    : Promise.resolve();

  const markHeaders = {
    'content-type': 'application/json',
    authorization: `Bearer ${markerKey}`,
    'user-agent': CHROME_UA,
  };
  const ackMs: number[] = [];
  const marks: Promise<void>[] = [];
  try {
    if (o.load) await sleep(2000); // let the load settle
    const t0 = performance.now();
    for (let i = 0; performance.now() - t0 < o.seconds * 1000; i++) {
      const id = `mark-${o.run}-${o.load ? 'load' : 'idle'}-${i}`;
      const sent = performance.now();
      sentAt.set(id, sent);
      marks.push(
        fetch(`${server.url}/api/v1/events`, {
          method: 'POST',
          headers: markHeaders,
          body: JSON.stringify({
            type: 'view',
            event_id: id,
            product_id: 'marked',
            price: 1,
            visitor_id: 'm',
          }),
        }).then(async (r) => {
          await r.arrayBuffer();
          if (!r.ok) throw new Error(`mark ${id} refused: ${r.status}`);
          const at = performance.now();
          ackAt.set(id, at);
          ackMs.push(at - sent);
        }),
      );
      const next = t0 + (i + 1) * MARK_EVERY_MS - performance.now();
      if (next > 0) await sleep(next);
    }
    await Promise.all(marks);
    // Give the last marks time to show up.
    const deadline = performance.now() + 10_000;
    while (seenAt.size < sentAt.size && performance.now() < deadline) await sleep(50);
  } finally {
    stop = true;
    await load;
    sse.stop();
    await sse.done;
  }
  const lat: number[] = [];
  const sendLat: number[] = [];
  let beforeAck = 0;
  for (const [id, sent] of sentAt) {
    const seen = seenAt.get(id);
    const ack = ackAt.get(id)!;
    if (seen === undefined) {
      lat.push(Number.POSITIVE_INFINITY);
      sendLat.push(Number.POSITIVE_INFINITY);
      continue;
    }
    if (seen < ack) beforeAck++;
    lat.push(Math.max(0, seen - ack));
    sendLat.push(seen - sent);
  }
  const loadSeconds = ((loadEnded || performance.now()) - loadStarted) / 1000;
  return {
    lat,
    sendLat,
    beforeAck,
    loadRate: o.load ? loadAcked / loadSeconds : 0,
    loadFailed,
    loadSkipped,
    snapshots: sse.count(),
    ackMs,
  };
}

async function addMarkerSite(server: ServerProcess): Promise<string> {
  const r = await runCli(['sites', 'add', 'marker'], { dataDir: server.dataDir });
  const key = /write key:\s+(\S+)/.exec(r.stdout)?.[1];
  if (r.code !== 0 || !key) throw new Error(`sites add marker failed (${r.code}): ${r.stdout}${r.stderr}`);
  // The server picks up new keys within a second.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await fetch(`${server.url}/api/v1/sites/marker/realtime`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
    });
    await res.arrayBuffer();
    const post = await fetch(`${server.url}/api/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${key}`,
        'user-agent': CHROME_UA,
      },
      body: JSON.stringify({ type: 'page_view', url: 'https://marker.example/', visitor_id: 'm' }),
    });
    await post.arrayBuffer();
    if (res.ok && post.ok) return key;
    if (Date.now() > deadline)
      throw new Error(`the server did not accept the marker site's key (${res.status}, ${post.status})`);
    await sleep(200);
  }
}

const pct = (xs: number[], p: number) => percentile(xs, p);

export const sseLatency: Bench = {
  id: 'g',
  title: 'acknowledged event → SSE update latency under load',
  async run(o: BenchOptions) {
    const idleSeconds = o.quick ? 5 : 15;
    const loadSeconds = o.quick ? 10 : 30;
    const server = await startServer();
    const run = randomUUID().slice(0, 8);
    let idle: Phase;
    let loaded: Phase;
    try {
      const markerKey = await addMarkerSite(server);
      idle = await phase(server, markerKey, { seconds: idleSeconds, load: false, run });
      o.log(
        `  no load: p50 ${fmt(pct(idle.lat, 50))} ms, p99 ${fmt(pct(idle.lat, 99))} ms over ${idle.lat.length} marks`,
      );
      loaded = await phase(server, markerKey, { seconds: loadSeconds, load: true, run });
      o.log(
        `  load ${fmt(loaded.loadRate)} events/s: p50 ${fmt(pct(loaded.lat, 50))} ms, p99 ${fmt(pct(loaded.lat, 99))} ms over ${loaded.lat.length} marks`,
      );
    } finally {
      await server.stop();
      server.cleanup();
    }
    const p99 = pct(loaded.lat, 99);
    const base99 = pct(idle.lat, 99);
    const describe = (name: string, ph: Phase) =>
      `${name}: ack→SSE p50 ${fmt(pct(ph.lat, 50))} ms, p99 ${fmt(pct(ph.lat, 99))} ms, max ${fmt(Math.max(...ph.lat))} ms over ${ph.lat.length} marks (${ph.lat.filter((x) => !Number.isFinite(x)).length} never seen, counted as ∞; ${ph.beforeAck} seen before their ack arrived, counted as 0); send→SSE p50 ${fmt(pct(ph.sendLat, 50))} ms, p99 ${fmt(pct(ph.sendLat, 99))} ms; mark ack p50 ${fmt(median(ph.ackMs), 1)} ms, p99 ${fmt(pct(ph.ackMs, 99), 1)} ms; ${ph.snapshots} snapshots received`;
    const notes = [
      describe('under load', loaded),
      describe('no load (baseline)', idle),
      `load: aimed at ${fmt(LOAD_RATE)} events/s (batches of ${LOAD_BATCH}, at most ${MAX_IN_FLIGHT} in flight) to the default site, achieved ${fmt(loaded.loadRate)} acknowledged events/s; ${loaded.loadSkipped} batches skipped (in-flight cap), ${loaded.loadFailed} failed. Marks every ${MARK_EVERY_MS} ms to site "marker"`,
    ];
    return {
      id: 'g',
      name: `ack → SSE update latency, p99 under ${fmt(loaded.loadRate)} events/s (p50 in notes)`,
      unit: 'ms',
      value: p99,
      baselineName: 'same marks, no load (p99)',
      baseline: base99,
      ratio: p99 / base99,
      goal: 'p99 ≤ 1,000 ms under 10,000 events/s',
      pass: p99 <= 1000 && loaded.loadRate >= 0.95 * LOAD_RATE,
      samples: { value: loaded.lat, baseline: idle.lat },
      notes,
    };
  },
};
