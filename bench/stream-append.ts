import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fromWire } from '../src/events/normalise.js';
import type { AppendRecord } from '../src/stream/event-log.js';
import { SqliteEventLog } from '../src/stream/sqlite-log.js';
import { ctx } from '../src/testing/ingest-context.js';
import { type Bench, type BenchOptions, fmt, median, rmrf, scratchDir } from './lib.js';

/**
 * (c) Stream append throughput with durable group commit: PRODUCERS concurrent producers, each
 * appending BATCH canonical events at a time and waiting for the ack, through SqliteEventLog
 * (fsync on). Baseline: better-sqlite3 on the same schema (the log's topic table) with
 * synchronous=FULL, inserting the same records with one prepared statement, in transactions of
 * PRODUCERS × BATCH records (what one group commit holds when every producer has one append
 * queued), i.e. SQLite's own ceiling for the stream's shape.
 */
const PRODUCERS = 64;
const BATCH = 10;
const POOL = 20_000;

/** Realistic stream records: canonical events as the collector writes them (~800 bytes of JSON). */
function records(n: number): AppendRecord[] {
  const c = ctx({ receivedAt: Date.now() });
  const out: AppendRecord[] = [];
  for (let i = 0; i < n; i++) {
    const m = fromWire(
      {
        type: i % 20 === 0 ? 'cart' : 'view',
        product_id: String(1000 + (i % 5000)),
        price: (i % 900) + 0.99,
      },
      c,
    );
    if (!m.ok) throw new Error(m.reason);
    out.push({ value: JSON.stringify(m.value), timestamp: m.value.received_at });
  }
  return out;
}

async function runLog(
  dir: string,
  pool: AppendRecord[],
  seconds: number,
): Promise<{ rate: number; appends: number }> {
  const log = new SqliteEventLog({ dir, fsync: true });
  let written = 0;
  let appends = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  const producer = async (p: number) => {
    let i = p * BATCH * 31;
    while (performance.now() < deadline) {
      const batch: AppendRecord[] = [];
      for (let k = 0; k < BATCH; k++) {
        const r = pool[i++ % pool.length];
        batch.push({ key: `shop:${randomUUID()}`, value: r.value, timestamp: r.timestamp });
      }
      await log.append('events', batch);
      written += BATCH;
      appends++;
    }
  };
  await Promise.all(Array.from({ length: PRODUCERS }, (_, p) => producer(p)));
  const elapsed = (performance.now() - started) / 1000;
  await log.close();
  return { rate: written / elapsed, appends };
}

function runRaw(dir: string, pool: AppendRecord[], seconds: number): number {
  const db = new Database(join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // The same table as SqliteEventLog creates for a topic.
  db.exec(`CREATE TABLE t_events (
    position INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, ts INTEGER NOT NULL, value TEXT NOT NULL);
    CREATE INDEX t_events_ts ON t_events(ts);`);
  const insert = db.prepare(
    'INSERT INTO t_events (key, ts, value) VALUES (?, ?, ?) ON CONFLICT(key) DO NOTHING',
  );
  const group = PRODUCERS * BATCH;
  const commit = db.transaction((rows: AppendRecord[]) => {
    for (const r of rows) insert.run(r.key, r.timestamp, r.value);
  });
  let written = 0;
  let i = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    const rows: AppendRecord[] = [];
    for (let k = 0; k < group; k++) {
      const r = pool[i++ % pool.length];
      rows.push({ key: `shop:${randomUUID()}`, value: r.value, timestamp: r.timestamp });
    }
    commit(rows);
    written += group;
  }
  const rate = written / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

export const streamAppend: Bench = {
  id: 'c',
  title: 'stream append (SqliteEventLog, fsync group commit)',
  async run(o: BenchOptions) {
    const seconds = o.quick ? 2 : 5;
    const reps = o.quick ? 1 : 3;
    const pool = records(POOL);
    const value: number[] = [];
    const baseline: number[] = [];
    const ratios: number[] = [];
    let appendsPerSec = 0;
    for (let rep = 0; rep < reps; rep++) {
      const dir = scratchDir('stream');
      try {
        const ours = await runLog(join(dir, 'log'), pool, seconds);
        const raw = runRaw(dir, pool, seconds);
        value.push(ours.rate);
        baseline.push(raw);
        ratios.push(ours.rate / raw);
        appendsPerSec = ours.appends / seconds;
        o.log(`  rep ${rep + 1}: log ${fmt(ours.rate)} events/s, raw SQLite ${fmt(raw)} events/s`);
      } finally {
        rmrf(dir);
      }
    }
    const v = median(value);
    return {
      id: 'c',
      name: 'stream append, durable (SqliteEventLog)',
      unit: 'events/s',
      value: v,
      baselineName: 'better-sqlite3 insert loop, synchronous=FULL, same schema & txn size',
      baseline: median(baseline),
      ratio: median(ratios),
      goal: '≥ 300,000 events/s',
      pass: v >= 300_000,
      samples: { value, baseline },
      notes: [
        `${PRODUCERS} producers × appends of ${BATCH} canonical events (~800 B JSON each), ${seconds} s per run, ${reps} run(s); ~${fmt(appendsPerSec)} appends/s`,
      ],
    };
  },
};
