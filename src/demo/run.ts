import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import type { WireEvent } from '../events/wire.js';
import { plannedRees46Row, REES46_HEADER, REES46_TYPES } from './csv.js';
import {
  type DemoIncident,
  type DemoItem,
  demoIncidents,
  generateDemo,
  plannedEvents,
  trafficFactor,
} from './generator.js';

/**
 * The three ways to use the demo store: send live traffic to a running server, backfill days
 * of history through a writer, or write a REES46-format CSV for imports and benchmarks.
 */

const DAY = 86_400_000;

export interface DemoLiveOptions {
  url: string;
  writeKey: string;
  ratePerSec: number;
  seed: number;
  durationSec?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface DemoLiveStats {
  sent: number; // events posted (first attempts)
  acknowledged: number; // accepted or recognised as duplicates by the server
  rejected: number; // refused by the server, with a reason (not retried)
  failed: number; // given up after retries or on stop
  retries: number; // requests repeated after a network error, 429 or 5xx
  requests: number;
}

const MAX_IN_FLIGHT = 16;
const MAX_BATCH = 500;
const MAX_ATTEMPTS = 6;
const TICK_MS = 200;
const LOG_EVERY_MS = 5_000;
// Sessions last minutes: starting the simulation a little back (at most ~5k events to skip, so
// even a busy machine starts at once) makes the first seconds look like a shop that is open
// rather than one where everybody just arrived.
const warmUpMs = (ratePerSec: number) => Math.min(10 * 60_000, (5_000 / ratePerSec) * 1000);

/**
 * Sends the demo store's traffic as it happens. The generator is scaled so that the rate right
 * now is `ratePerSec`; it then follows the time of day. Events due in one tick are grouped per
 * simulated client, so each request can carry that client's User-Agent and X-Forwarded-For.
 */
export async function demoLive(opts: DemoLiveOptions): Promise<DemoLiveStats> {
  if (!(opts.ratePerSec > 0)) throw new RangeError(`ratePerSec must be > 0, got ${opts.ratePerSec}`);
  const log = opts.log ?? (() => {});
  const endpoint = `${opts.url.replace(/\/+$/, '')}/api/v1/events`;
  const stats: DemoLiveStats = { sent: 0, acknowledged: 0, rejected: 0, failed: 0, retries: 0, requests: 0 };
  const startedAt = Date.now();
  const days = opts.durationSec === undefined ? 7 : Math.max(1, Math.ceil((opts.durationSec * 1000) / DAY));
  const incidents = demoIncidents(startedAt, days, opts.seed);
  for (const line of describeIncidents(incidents)) log(line);

  const source = generateDemo({
    startMs: startedAt - warmUpMs(opts.ratePerSec),
    seed: opts.seed,
    eventsPerDay: (opts.ratePerSec * 86_400) / trafficFactor(startedAt),
    incidents,
  });
  const dueAt = (item: DemoItem) => Date.parse(item.event.time as string);
  let next = source.next();
  while (!next.done && dueAt(next.value) < startedAt) next = source.next(); // skip the warm-up
  // The duration counts from here: on a busy machine the warm-up can take a while.
  const endAt =
    opts.durationSec === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.durationSec * 1000;

  const inFlight = new Set<Promise<void>>();
  const reported = new Set<string>(); // each kind of refusal is logged once, not per request
  const post = (events: WireEvent[], ip: string, userAgent: string) =>
    sendBatch(endpoint, opts.writeKey, events, ip, userAgent, stats, opts.signal, (why) => {
      if (!reported.has(why)) {
        reported.add(why);
        log(`demo: ${why}`);
      }
    });
  let lastLog = startedAt;
  let sentAtLastLog = 0;

  while (!opts.signal?.aborted && !next.done && Date.now() < endAt) {
    const now = Date.now();
    const batches = new Map<string, DemoItem[]>(); // per client: ip + user agent
    while (!next.done && dueAt(next.value) <= now) {
      const key = `${next.value.ip} ${next.value.userAgent}`;
      const list = batches.get(key);
      if (list) list.push(next.value);
      else batches.set(key, [next.value]);
      next = source.next();
    }
    for (const items of batches.values()) {
      for (let i = 0; i < items.length; i += MAX_BATCH) {
        while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
        const chunk = items.slice(i, i + MAX_BATCH);
        stats.sent += chunk.length;
        const request = post(
          chunk.map((c) => c.event),
          chunk[0].ip,
          chunk[0].userAgent,
        ).finally(() => inFlight.delete(request));
        inFlight.add(request);
      }
    }
    if (now - lastLog >= LOG_EVERY_MS) {
      log(progressLine(stats, inFlight.size, (stats.sent - sentAtLastLog) / ((now - lastLog) / 1000)));
      lastLog = now;
      sentAtLastLog = stats.sent;
    }
    const wait = next.done ? 0 : Math.min(TICK_MS, Math.max(0, dueAt(next.value) - Date.now()));
    await sleep(wait, undefined, { signal: opts.signal }).catch(() => {}); // an abort just ends the wait
  }
  await Promise.all(inFlight);
  log(
    progressLine(stats, 0, stats.sent / Math.max(0.001, (Date.now() - startedAt) / 1000)).replace(
      'demo:',
      'demo done:',
    ),
  );
  return stats;
}

function progressLine(s: DemoLiveStats, inFlight: number, rate: number): string {
  return `demo: sent ${s.sent} (${rate.toFixed(1)}/s), acknowledged ${s.acknowledged}, rejected ${s.rejected}, failed ${s.failed}, retries ${s.retries}, in flight ${inFlight}`;
}

function describeIncidents(incidents: DemoIncident[]): string[] {
  if (incidents.length === 0) return ['demo: no incidents fall in this run'];
  return incidents.map(
    (i) =>
      `demo: incident ${i.id} at ${new Date(i.startMs).toISOString()} for ${(i.endMs - i.startMs) / 60_000} min: ${i.description}`,
  );
}

/** POSTs one batch, retrying network errors, 408, 429 and 5xx with exponential backoff and jitter. */
async function sendBatch(
  endpoint: string,
  writeKey: string,
  events: WireEvent[],
  ip: string,
  userAgent: string,
  stats: DemoLiveStats,
  signal: AbortSignal | undefined,
  report: (why: string) => void,
): Promise<void> {
  // The visitor's IP also travels in the event, as a backend forwarding a visitor would send it:
  // X-Forwarded-For is only read when the server is configured to trust a proxy.
  const body = JSON.stringify({ events: events.map((e) => ({ ...e, ip })) });
  for (let attempt = 1; ; attempt++) {
    let problem: string;
    try {
      stats.requests++;
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${writeKey}`,
          'user-agent': userAgent,
          'x-forwarded-for': ip,
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      if (res.ok || (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429)) {
        count(res.status, text, events.length, stats, report);
        return;
      }
      problem = `HTTP ${res.status}`;
    } catch (err) {
      problem = (err as Error).message;
    }
    if (attempt >= MAX_ATTEMPTS || signal?.aborted) {
      stats.failed += events.length;
      report(`gave up on a batch after ${attempt} attempt(s): ${problem}`);
      return;
    }
    stats.retries++;
    const backoff = Math.min(10_000, 250 * 2 ** (attempt - 1)) * (0.5 + Math.random());
    await sleep(backoff, undefined, { signal }).catch(() => {});
  }
}

/** Reads the collector's `{ accepted, duplicates, rejected: [{ reason }] }` answer into the counters. */
function count(
  status: number,
  text: string,
  size: number,
  stats: DemoLiveStats,
  report: (why: string) => void,
) {
  let reply: { accepted?: unknown; duplicates?: unknown; rejected?: unknown; error?: unknown } = {};
  try {
    reply = JSON.parse(text);
  } catch {
    // not JSON: judge by the status alone
  }
  const rejected = Array.isArray(reply.rejected) ? reply.rejected : [];
  if (status >= 400) {
    stats.rejected += size;
    report(`server refused a batch with HTTP ${status}: ${String(reply.error ?? text).slice(0, 200)}`);
    return;
  }
  const accepted = typeof reply.accepted === 'number' ? reply.accepted : size - rejected.length;
  const duplicates = typeof reply.duplicates === 'number' ? reply.duplicates : 0;
  stats.acknowledged += accepted + duplicates;
  stats.rejected += rejected.length;
  if (rejected.length > 0) report(`server rejected events: ${JSON.stringify(rejected[0]).slice(0, 200)}`);
}

export interface DemoBackfillOptions {
  days: number;
  seed: number;
  eventsPerDay: number;
  /** Orders per event multiplier (see GenerateOptions.conversion). */
  conversion?: number;
  endMs?: number;
  write: (items: DemoItem[]) => Promise<void>;
  progress?: (doneFraction: number, events: number) => void;
}

const BACKFILL_CHUNK = 50_000;

/** Generates `days` of history ending at `endMs` (default now) and hands it to `write` in time-ordered chunks. */
export async function demoBackfill(
  opts: DemoBackfillOptions,
): Promise<{ events: number; incidents: DemoIncident[] }> {
  const endMs = opts.endMs ?? Date.now();
  const startMs = endMs - opts.days * DAY;
  const incidents = demoIncidents(startMs, opts.days, opts.seed);
  let chunk: DemoItem[] = [];
  let events = 0;
  const flush = async () => {
    const last = chunk[chunk.length - 1];
    await opts.write(chunk);
    events += chunk.length;
    chunk = [];
    opts.progress?.((Date.parse(last.event.time as string) - startMs) / (endMs - startMs), events);
  };
  for (const item of generateDemo({
    startMs,
    endMs,
    seed: opts.seed,
    eventsPerDay: opts.eventsPerDay,
    conversion: opts.conversion,
    incidents,
  })) {
    chunk.push(item);
    if (chunk.length >= BACKFILL_CHUNK) await flush();
  }
  if (chunk.length > 0) await flush();
  opts.progress?.(1, events);
  return { events, incidents };
}

export interface DemoCsvOptions {
  out: string;
  rows: number;
  seed: number;
  progress?: (rows: number) => void;
  /** Default 2019-10-01T00:00:00Z, where the public REES46 October file starts. */
  startMs?: number;
  /** Default 1,000,000 (REES46 October averages ~1.4M). */
  rowsPerDay?: number;
}

/** The share of generated events that are REES46 rows (view, cart, remove_from_cart, purchase), measured. */
const CSV_ROW_SHARE = 0.7;
const CSV_CHUNK_BYTES = 1 << 20;

/** Writes exactly `rows` REES46 rows after the header; gzips when `out` ends in `.gz`. */
export async function demoCsv(opts: DemoCsvOptions): Promise<{ rows: number }> {
  const startMs = opts.startMs ?? Date.UTC(2019, 9, 1);
  const rowsPerDay = opts.rowsPerDay ?? 1_000_000;
  const days = Math.ceil(opts.rows / rowsPerDay) + 1;
  const events = plannedEvents({
    startMs,
    seed: opts.seed,
    eventsPerDay: rowsPerDay / CSV_ROW_SHARE,
    incidents: demoIncidents(startMs, days, opts.seed),
    types: REES46_TYPES,
  });

  // Rows are copied into ~1 MB buffers: one write per chunk keeps stream overhead out of the
  // loop (copying each short row is cheaper than joining thousands of them), and Readable.from
  // pulls the next chunk only when the file (or gzip) wants more.
  function* chunks(): Generator<Buffer> {
    let chunk = Buffer.allocUnsafe(CSV_CHUNK_BYTES);
    let used = chunk.write(`${REES46_HEADER}\n`);
    let written = 0;
    for (const planned of events) {
      if (written === opts.rows) break;
      const row = plannedRees46Row(planned);
      if (row === null) continue;
      if (used + row.length * 3 + 1 > chunk.length) {
        yield chunk.subarray(0, used);
        opts.progress?.(written);
        chunk = Buffer.allocUnsafe(CSV_CHUNK_BYTES);
        used = 0;
      }
      used += chunk.write(row, used);
      chunk[used++] = 0x0a; // \n
      written++;
    }
    yield chunk.subarray(0, used);
    opts.progress?.(written);
  }

  const file = createWriteStream(opts.out);
  if (opts.out.endsWith('.gz')) {
    // Level 1: several times faster than the default for ~10% larger files; these are test data.
    await pipeline(Readable.from(chunks()), createGzip({ level: 1 }), file);
  } else {
    await pipeline(Readable.from(chunks()), file);
  }
  return { rows: opts.rows };
}
