import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fromWire } from '../events/normalise.js';
import { LAKE_TABLES, listPartitions, tableDir } from '../lake/lake.js';
import { LakeWriter } from '../lake/writer.js';
import { QuerySandbox } from '../query/sandbox.js';
import { TOPICS } from '../stream/event-log.js';
import { SqliteEventLog } from '../stream/sqlite-log.js';
import { ctx } from '../testing/ingest-context.js';
import { eventually } from '../testing/server-process.js';
import { LakeSink } from './lake-sink.js';

const HOUR = 3_600_000;

function events(from: number, n: number, baseTime: number) {
  return Array.from({ length: n }, (_, i) => {
    const m = fromWire(
      { type: 'view', event_id: `e${from + i}`, time: baseTime + ((from + i) % 3) * HOUR },
      ctx({ receivedAt: baseTime + 3 * HOUR }),
    );
    assert.ok(m.ok, !m.ok ? m.reason : '');
    return { key: `shop:e${from + i}`, value: JSON.stringify(m.value) };
  });
}

describe('lake sink', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-sink-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const baseTime = Date.parse('2026-11-23T06:00:00Z');

  const sinkFor = (log: SqliteEventLog, writer: LakeWriter) =>
    new LakeSink({
      log,
      writer,
      dataDir,
      topic: TOPICS.events,
      table: LAKE_TABLES.events,
      flushIntervalMs: 100,
      flushMaxRecords: 1000,
      compactAfterMinutes: 10,
    });

  it('writes hourly partitions, recovers from a crash between write and commit, and compacts exactly once', async () => {
    const log = new SqliteEventLog({ dir: join(dataDir, 'stream') });
    const writer = await LakeWriter.open(dataDir);
    const sandbox = await QuerySandbox.open({ dataDir, timeoutMs: 5000, maxRows: 100_000 });
    const count = async () =>
      Number(
        (await sandbox.query('select count(*) as n, count(distinct event_id) as d from events')).rows[0].n,
      );

    await log.append(TOPICS.events, events(0, 300, baseTime));
    let sink = sinkFor(log, writer);
    await sink.start();
    await eventually(async () => (await log.committed(TOPICS.events, 'lake')) === 300);
    await sink.stop();
    assert.equal(await count(), 300);
    const partitions = [...listPartitions(tableDir(dataDir, 'events')).keys()].sort();
    assert.deepEqual(partitions, ['dt=2026-11-23/hour=06', 'dt=2026-11-23/hour=07', 'dt=2026-11-23/hour=08']);

    // A crash after the files of positions 301–400 were written but before the commit:
    await log.append(TOPICS.events, events(300, 100, baseTime));
    const pending = await log.read(TOPICS.events, { position: 301 }, 1000);
    await writer.write(
      LAKE_TABLES.events,
      pending.map((r) => r.value),
      'part-301-400.parquet',
    );
    assert.equal(await count(), 400, 'the orphan files are visible before recovery');
    // …and more traffic arrives before the restart, so the next batch has other boundaries.
    await log.append(TOPICS.events, events(400, 50, baseTime));
    sink = sinkFor(log, writer);
    await sink.start();
    await eventually(async () => (await log.committed(TOPICS.events, 'lake')) === 450);
    await sink.stop();
    const [{ n, d }] = (
      await sandbox.query('select count(*) as n, count(distinct event_id) as d from events')
    ).rows;
    assert.equal(Number(n), 450, 'no duplicates after recovery');
    assert.equal(Number(d), 450);

    // Compaction of closed hours: one file per hour, same rows.
    // (the sink compacts between batches too; these hours closed long ago, so it may have already)
    await sink.compactClosedHours(baseTime + 10 * HOUR);
    for (const files of listPartitions(tableDir(dataDir, 'events')).values()) {
      assert.equal(files.length, 1);
      assert.match(files[0].name, /^compact-1-450\.parquet$/);
    }
    assert.equal(await count(), 450);

    sandbox.close();
    writer.close();
    await log.close();
  });
});
