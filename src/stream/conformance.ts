/**
 * One contract, every EventLog: the behaviour a producer or consumer of the stream relies on.
 * Each implementation's test file calls `eventLogConformance(name, makeLog)`; `makeLog` gives a
 * fresh, empty log and a `cleanup` that closes it (if still open) and releases its storage.
 *
 * Reading of `StartFrom` used throughout: `{ position: p }` starts at p itself, `{ time: t }` at
 * the first record whose timestamp is >= t, `'latest'` after the last record that exists now.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConsumeOptions, EventLog, StoredRecord } from './event-log.js';

export type MakeLog = () => Promise<{ log: EventLog; cleanup: () => Promise<void> }>;

const TEST_TIMEOUT_MS = 10_000;
const WAIT_MS = 5_000;

let topicCount = 0;
/** Lower-case letters, digits and `_`: the strictest topic rule of any implementation. */
function newTopic(): string {
  topicCount += 1;
  return `t${process.pid.toString(36)}_${topicCount}`;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function waitFor(condition: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const positions = (records: StoredRecord[]) => records.map((r) => r.position);
const plain = (r: StoredRecord): StoredRecord => ({
  position: r.position,
  key: r.key,
  value: r.value,
  timestamp: r.timestamp,
});

/** Runs a group until at least `count` records have arrived, then stops it (committing what was handled). */
async function consumeUntil(
  log: EventLog,
  topic: string,
  group: string,
  count: number,
  opts?: ConsumeOptions,
): Promise<{ records: StoredRecord[]; batches: StoredRecord[][] }> {
  const batches: StoredRecord[][] = [];
  const records: StoredRecord[] = [];
  const sub = log.consume(
    topic,
    group,
    async (batch) => {
      batches.push(batch);
      records.push(...batch);
    },
    opts,
  );
  const ended = sub.done.then(() => {
    throw new Error(`group ${group} stopped on its own after ${records.length} of ${count} records`);
  });
  try {
    await Promise.race([
      waitFor(() => records.length >= count, `${count} records in group ${group} (got ${records.length})`),
      ended,
    ]);
  } finally {
    await withTimeout(sub.stop(), WAIT_MS, `stop() of group ${group}`);
  }
  return { records, batches };
}

async function appendValues(
  log: EventLog,
  topic: string,
  values: string[],
  timestamps?: number[],
): Promise<number[]> {
  const res = await log.append(
    topic,
    values.map((value, i) => ({ value, timestamp: timestamps?.[i] })),
  );
  return res.positions.map((p) => {
    assert.equal(typeof p, 'number', 'a new record gets a position');
    return p as number;
  });
}

const range = (n: number, f: (i: number) => string = (i) => `r${i}`) =>
  Array.from({ length: n }, (_, i) => f(i));

export function eventLogConformance(name: string, makeLog: MakeLog): void {
  const test = (title: string, fn: (log: EventLog, topic: string) => Promise<void>) =>
    it(title, { timeout: TEST_TIMEOUT_MS }, async () => {
      const { log, cleanup } = await makeLog();
      try {
        await fn(log, newTopic());
      } finally {
        await cleanup();
      }
    });

  describe(`EventLog conformance: ${name}`, () => {
    test('append returns positions in order and the records read back identical', async (log, topic) => {
      const t0 = Date.now() - 10_000;
      const input = [
        { key: 'a', value: 'plain', timestamp: t0 },
        { value: 'no key', timestamp: t0 + 1 },
        { key: 'c', value: JSON.stringify({ text: 'ünïcødé ✓ "quoted"\n', n: 1.5 }), timestamp: t0 + 2 },
        { key: 'd', value: 'x'.repeat(20_000), timestamp: t0 + 3 },
        { key: 'e', value: '', timestamp: t0 + 4 },
      ];
      const empty = await log.append(topic, []);
      assert.deepEqual(empty, { positions: [], duplicates: 0 });

      const res = await log.append(topic, input);
      assert.equal(res.duplicates, 0);
      assert.equal(res.positions.length, input.length);
      const p = res.positions as number[];
      for (let i = 1; i < p.length; i++) assert.ok(p[i] > p[i - 1], `positions increase: ${p}`);
      assert.ok(p[0] >= 1, 'positions start at 1');

      const before = Date.now();
      const [later] = await appendValues(log, topic, ['default timestamp']);
      const after = Date.now();
      assert.ok(later > p[p.length - 1], 'a later append gets a later position');

      const stored = await log.read(topic, 'earliest', 100);
      assert.deepEqual(
        stored.slice(0, input.length).map(plain),
        input.map((r, i) => ({ position: p[i], key: r.key ?? null, value: r.value, timestamp: r.timestamp })),
      );
      assert.equal(stored.length, input.length + 1);
      const last = stored[input.length];
      assert.equal(last.position, later);
      assert.equal(last.value, 'default timestamp');
      assert.ok(
        last.timestamp >= before - 1000 && last.timestamp <= after + 1000,
        'timestamp defaults to now',
      );
    });

    test('append with the same key twice stores one record and counts the duplicate', async (log, topic) => {
      const first = await log.append(topic, [
        { key: 'k1', value: 'one' },
        { key: 'k2', value: 'two' },
      ]);
      const again = await log.append(topic, [
        { key: 'k1', value: 'one, retried' },
        { key: 'k3', value: 'three' },
      ]);
      assert.equal(again.duplicates, 1);
      assert.ok(
        again.positions[0] === null || again.positions[0] === first.positions[0],
        'a duplicate points at the first copy',
      );
      const sameCall = await log.append(topic, [
        { key: 'k4', value: 'four' },
        { key: 'k4', value: 'four again' },
      ]);
      assert.equal(sameCall.duplicates, 1);

      const stored = await log.read(topic, 'earliest', 100);
      assert.deepEqual(
        stored.map((r) => [r.key, r.value]),
        [
          ['k1', 'one'],
          ['k2', 'two'],
          ['k3', 'three'],
          ['k4', 'four'],
        ],
      );
      assert.equal((await log.stats(topic)).records, 4);
    });

    test('concurrent appends each get their own positions', async (log, topic) => {
      const results = await Promise.all(
        range(20).map((v) => log.append(topic, [{ value: `${v}a` }, { value: `${v}b` }])),
      );
      const all = results.flatMap((r) => r.positions as number[]);
      assert.equal(new Set(all).size, 40, 'no two records share a position');
      for (const r of results)
        assert.ok((r.positions[0] as number) < (r.positions[1] as number), 'order within a call is kept');
      const stored = await log.read(topic, 'earliest', 100);
      assert.deepEqual(
        stored.map((r) => r.position),
        [...all].sort((a, b) => a - b),
      );
      const byPosition = new Map(stored.map((r) => [r.position, r.value]));
      for (const [i, r] of results.entries()) {
        assert.deepEqual(
          r.positions.map((p) => byPosition.get(p as number)),
          [`r${i}a`, `r${i}b`],
        );
      }
    });

    test('append reports failure through its promise, never by throwing', async (log) => {
      // Callers chain .catch() or use Promise.allSettled; a synchronous throw escapes both.
      let pending: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        pending = log.append('Not a valid.topic name!', [{ value: 'x' }]);
      }, 'append() must return a promise even for a topic name it refuses');
      await pending?.catch(() => {});
    });

    test('consume delivers every record in order, in batches of at most maxBatch, including new ones', async (log, topic) => {
      const values = range(30);
      await appendValues(log, topic, values.slice(0, 25));
      const batches: number[] = [];
      const seen: string[] = [];
      const delivered: StoredRecord[] = [];
      const sub = log.consume(
        topic,
        'g',
        async (batch) => {
          batches.push(batch.length);
          seen.push(...batch.map((r) => r.value));
          delivered.push(...batch);
        },
        { maxBatch: 4 },
      );
      try {
        await waitFor(() => seen.length >= 25, 'the 25 existing records');
        await appendValues(log, topic, values.slice(25));
        await waitFor(() => seen.length >= 30, 'the 5 records appended while consuming');
      } finally {
        await withTimeout(sub.stop(), WAIT_MS, 'stop()');
      }
      assert.deepEqual(seen, values, 'every record once, in append order');
      assert.deepEqual(
        delivered.map(plain),
        (await log.read(topic, 'earliest', 100)).map(plain),
        'consumers get the stored records',
      );
      assert.ok(
        batches.every((n) => n >= 1 && n <= 4),
        `batch sizes within 1..4: ${batches}`,
      );
      await withTimeout(sub.done, WAIT_MS, 'done after stop()');
    });

    test('maxWaitMs gathers records that arrive soon after the first into one batch', async (log, topic) => {
      const batches: string[][] = [];
      const sub = log.consume(
        topic,
        'g',
        async (batch) => {
          batches.push(batch.map((r) => r.value));
        },
        { maxBatch: 10, maxWaitMs: 600 },
      );
      try {
        await new Promise((r) => setTimeout(r, 200));
        await appendValues(log, topic, ['first']);
        await new Promise((r) => setTimeout(r, 100));
        await appendValues(log, topic, ['second', 'third']);
        await waitFor(() => batches.flat().length >= 3, '3 records');
      } finally {
        await withTimeout(sub.stop(), WAIT_MS, 'stop()');
      }
      assert.deepEqual(batches, [['first', 'second', 'third']]);
    });

    test('a group commits a batch only after its handler resolves; a failed batch is delivered again', async (log, topic) => {
      const p = await appendValues(log, topic, range(10));
      let calls = 0;
      let committedDuringFirst = -1;
      let first: StoredRecord[] = [];
      let failed: StoredRecord[] = [];
      const sub = log.consume(
        topic,
        'g',
        async (batch) => {
          calls += 1;
          if (calls === 1) {
            committedDuringFirst = await log.committed(topic, 'g');
            first = batch;
            return;
          }
          failed = batch;
          throw new Error('handler failed on purpose');
        },
        { maxBatch: 5 },
      );
      await assert.rejects(withTimeout(sub.done, WAIT_MS, 'done to reject'), /handler failed on purpose/);
      await withTimeout(sub.stop(), WAIT_MS, 'stop() after a failure');
      assert.equal(committedDuringFirst, 0, 'nothing is committed while the first handler runs');
      assert.equal(
        await log.committed(topic, 'g'),
        first[first.length - 1].position,
        'the successful batch is committed',
      );
      assert.ok(failed.length > 0);

      const again = await consumeUntil(log, topic, 'g', 10 - first.length, { maxBatch: 5 });
      assert.deepEqual(
        positions(again.records),
        p.slice(first.length),
        'delivery resumes at the failed batch',
      );
      assert.deepEqual(positions(again.records).slice(0, failed.length), positions(failed));
      assert.equal(await log.committed(topic, 'g'), p[9]);
    });

    test('two groups are independent, whatever their names', async (log, topic) => {
      const b = 'sinks.lake b/1';
      const p = await appendValues(log, topic, range(6));
      const a = await consumeUntil(log, topic, 'a', 6);
      assert.deepEqual(positions(a.records), p);
      assert.equal(await log.committed(topic, 'a'), p[5]);
      assert.equal(await log.committed(topic, b), 0, 'a group that never ran has committed nothing');

      const more = await appendValues(log, topic, ['r6', 'r7']);
      const fromB = await consumeUntil(log, topic, b, 8);
      assert.deepEqual(
        positions(fromB.records),
        [...p, ...more],
        'the second group starts from the beginning',
      );
      const a2 = await consumeUntil(log, topic, 'a', 2);
      assert.deepEqual(positions(a2.records), more, 'group a only gets what it has not handled');
    });

    test('stop() then consume again resumes after the committed position, with no gaps and no repeats', async (log, topic) => {
      const p = await appendValues(log, topic, range(20));
      const got: StoredRecord[] = [];
      const sub = log.consume(
        topic,
        'g',
        async (batch) => {
          got.push(...batch);
          await new Promise((r) => setTimeout(r, 2));
        },
        { maxBatch: 3 },
      );
      await waitFor(() => got.length >= 7, '7 records');
      await withTimeout(sub.stop(), WAIT_MS, 'stop()');
      assert.equal(
        await log.committed(topic, 'g'),
        got[got.length - 1].position,
        'stop() commits the batch in flight',
      );

      const more = await appendValues(
        log,
        topic,
        range(5, (i) => `late${i}`),
      );
      const rest = await consumeUntil(log, topic, 'g', 20 - got.length + 5, { maxBatch: 3 });
      assert.deepEqual([...positions(got), ...positions(rest.records)], [...p, ...more]);

      const idle = log.consume(topic, 'g', async () => {
        throw new Error('nothing is left to deliver');
      });
      await new Promise((r) => setTimeout(r, 50));
      await withTimeout(idle.stop(), 1_500, 'stop() of an idle group');
      await withTimeout(idle.done, 1_500, 'done of an idle group');
    });

    test('seek to a position, to earliest and to latest replays from there', async (log, topic) => {
      const p = await appendValues(log, topic, range(10));
      await consumeUntil(log, topic, 'g', 10);

      await log.seek(topic, 'g', { position: p[3] });
      const fromPosition = await consumeUntil(log, topic, 'g', 7);
      assert.deepEqual(positions(fromPosition.records), p.slice(3));

      await log.seek(topic, 'g', 'earliest');
      assert.equal(await log.committed(topic, 'g'), 0);
      const fromStart = await consumeUntil(log, topic, 'g', 10);
      assert.deepEqual(positions(fromStart.records), p);

      await log.seek(topic, 'g', { position: p[1] });
      await log.seek(topic, 'g', 'latest');
      assert.equal(await log.committed(topic, 'g'), p[9]);
      const fresh = await appendValues(log, topic, ['after latest']);
      const fromLatest = await consumeUntil(log, topic, 'g', 1);
      assert.deepEqual(positions(fromLatest.records), fresh, 'only records appended after the seek');
    });

    test('seek to a time replays the records stamped at or after it', async (log, topic) => {
      const t0 = Date.now() - 60_000;
      const p = await appendValues(
        log,
        topic,
        range(6),
        range(6).map((_, i) => t0 + i * 1000),
      );
      await consumeUntil(log, topic, 'g', 6);

      await log.seek(topic, 'g', { time: t0 + 2500 });
      const between = await consumeUntil(log, topic, 'g', 3);
      assert.deepEqual(positions(between.records), p.slice(3));

      await log.seek(topic, 'g', { time: t0 + 2000 });
      const exact = await consumeUntil(log, topic, 'g', 4);
      assert.deepEqual(
        positions(exact.records),
        p.slice(2),
        'a record stamped exactly at the time is included',
      );

      await log.seek(topic, 'g', { time: Date.now() + 3_600_000 });
      const fresh = await appendValues(log, topic, ['after a seek past the end']);
      const future = await consumeUntil(log, topic, 'g', 1);
      assert.deepEqual(
        positions(future.records),
        fresh,
        'nothing old is replayed after seeking past the end',
      );
    });

    test('a new group starts where startFrom says; a group that has run ignores it', async (log, topic) => {
      const t0 = Date.now() - 60_000;
      const p = await appendValues(
        log,
        topic,
        range(5),
        range(5).map((_, i) => t0 + i * 1000),
      );

      // A group started from 'latest' keeps that start even if it is restarted before any record
      // arrives: restarting must not replay history. The pause lets it take its start position.
      const lateSub = log.consume(topic, 'late', async () => {}, { startFrom: 'latest' });
      await new Promise((r) => setTimeout(r, 300));
      await withTimeout(lateSub.stop(), WAIT_MS, 'stop()');
      const fresh = await appendValues(log, topic, ['new1', 'new2'], [Date.now(), Date.now()]);
      const late = await consumeUntil(log, topic, 'late', 2, { startFrom: 'earliest' });
      assert.deepEqual(
        positions(late.records),
        fresh,
        "'latest' skips what existed; later startFrom is ignored",
      );

      const mid = await consumeUntil(log, topic, 'mid', 5, { startFrom: { position: p[2] } });
      assert.deepEqual(positions(mid.records), [...p.slice(2), ...fresh]);

      const timed = await consumeUntil(log, topic, 'timed', 4, { startFrom: { time: t0 + 3000 } });
      assert.deepEqual(positions(timed.records), [...p.slice(3), ...fresh]);
    });

    test('read from earliest, latest, a position and a time', async (log, topic) => {
      const t0 = Date.now() - 60_000;
      const p = await appendValues(
        log,
        topic,
        range(10),
        range(10).map((_, i) => t0 + i * 1000),
      );
      assert.deepEqual(positions(await log.read(topic, 'earliest', 3)), p.slice(0, 3));
      assert.deepEqual(positions(await log.read(topic, 'earliest', 100)), p);
      assert.deepEqual(positions(await log.read(topic, { position: p[4] }, 3)), p.slice(4, 7));
      assert.deepEqual(positions(await log.read(topic, { position: p[9] + 100 }, 10)), []);
      assert.deepEqual(positions(await log.read(topic, { time: t0 + 4500 }, 100)), p.slice(5));
      assert.deepEqual(positions(await log.read(topic, { time: t0 + 5000 }, 2)), p.slice(5, 7));
      assert.deepEqual(positions(await log.read(topic, { time: Date.now() + 60_000 }, 10)), []);
      assert.deepEqual(await log.read(topic, 'latest', 10), [], "'latest' is the end of the log");
      assert.deepEqual(
        (await log.read(topic, 'earliest', 1)).map((r) => r.value),
        ['r0'],
      );
    });

    test('stats report first and last position, record count and bytes', async (log, topic) => {
      const empty = await log.stats(topic);
      const { firstPosition, lastPosition, records, bytes } = empty;
      assert.deepEqual(
        { topic: empty.topic, firstPosition, lastPosition, records, bytes },
        { topic, firstPosition: 0, lastPosition: 0, records: 0, bytes: 0 },
      );
      const p = await appendValues(log, topic, range(5));
      const small = await log.stats(topic);
      assert.equal(small.topic, topic);
      assert.equal(small.firstPosition, p[0]);
      assert.equal(small.lastPosition, p[4]);
      assert.equal(small.records, 5);
      assert.ok(small.bytes > 0);
      await appendValues(
        log,
        topic,
        range(5, () => 'y'.repeat(10_000)),
      );
      const big = await log.stats(topic);
      assert.equal(big.records, 10);
      assert.ok(
        big.bytes - small.bytes >= 50_000,
        `bytes grow with the data: ${small.bytes} -> ${big.bytes}`,
      );
    });

    test('retention by age drops only the records older than maxAgeMs', async (log, topic) => {
      const now = Date.now();
      const old = await appendValues(
        log,
        topic,
        range(4, (i) => `old${i}`),
        range(4).map((_, i) => now - 3_600_000 + i),
      );
      const young = await appendValues(
        log,
        topic,
        range(3, (i) => `young${i}`),
        [now, now, now],
      );
      assert.ok(old.length === 4);
      assert.equal(await log.enforceRetention(topic, { maxAgeMs: 60_000 }), 4);
      assert.deepEqual(positions(await log.read(topic, 'earliest', 100)), young);
      const s = await log.stats(topic);
      assert.equal(s.records, 3);
      assert.equal(s.firstPosition, young[0]);
      assert.equal(s.lastPosition, young[2]);
      assert.equal(await log.enforceRetention(topic, { maxAgeMs: 60_000 }), 0, 'nothing more to drop');
      const g = await consumeUntil(log, topic, 'g', 3);
      assert.deepEqual(
        positions(g.records),
        young,
        'a group that never ran starts at the oldest kept record',
      );
    });

    test('retention by size drops the oldest records first, and no more than needed', async (log, topic) => {
      const p = await appendValues(
        log,
        topic,
        range(20, (i) => `${String(i).padStart(4, '0')}${'z'.repeat(996)}`),
      );
      const before = await log.stats(topic);
      const perRecord = before.bytes / before.records;
      const maxBytes = Math.floor(before.bytes / 2);
      const dropped = await log.enforceRetention(topic, { maxBytes });
      const after = await log.stats(topic);
      assert.ok(dropped > 0 && dropped < 20, `dropped ${dropped} of 20`);
      assert.equal(after.records, 20 - dropped);
      assert.ok(after.bytes <= maxBytes, `bytes ${after.bytes} <= maxBytes ${maxBytes}`);
      assert.ok(
        after.bytes > maxBytes - 1.5 * perRecord,
        `kept ${after.bytes} bytes of the ${maxBytes} allowed`,
      );
      assert.deepEqual(
        positions(await log.read(topic, 'earliest', 100)),
        p.slice(dropped),
        'the newest records are kept',
      );
      assert.equal(await log.enforceRetention(topic, { maxBytes: after.bytes }), 0);
    });

    test('close stops running consumers and later appends fail', async (log, topic) => {
      await appendValues(log, topic, range(3));
      const seen: StoredRecord[] = [];
      const sub = log.consume(topic, 'g', async (batch) => {
        seen.push(...batch);
      });
      await waitFor(() => seen.length >= 3, '3 records');
      const inFlight = log.append(topic, [{ value: 'appended as close() starts' }]);
      await withTimeout(log.close(), WAIT_MS, 'close()');
      const accepted = await withTimeout(inFlight, WAIT_MS, 'an append made before close()');
      assert.equal(typeof accepted.positions[0], 'number', 'an append made before close() completes');
      await withTimeout(sub.done, WAIT_MS, 'done of a consumer after close()');
      await assert.rejects(async () => log.append(topic, [{ value: 'after close' }]));
      await withTimeout(log.close(), WAIT_MS, 'a second close()');
    });
  });
}
