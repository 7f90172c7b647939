import { type LakeTable, listPartitions, recoverTable, tableDir } from '../lake/lake.js';
import type { LakeWriter } from '../lake/writer.js';
import type { EventLog, StoredRecord, Subscription } from '../stream/event-log.js';

export interface LakeSinkOptions {
  log: EventLog;
  writer: LakeWriter;
  dataDir: string;
  topic: string;
  table: LakeTable;
  flushIntervalMs: number;
  flushMaxRecords: number;
  compactAfterMinutes: number;
  onFlush?: (info: { table: string; records: number; files: number; ms: number }) => void;
  onError?: (err: Error) => void;
}

const GROUP = 'lake';

/**
 * Stream → Parquet. Each delivered batch becomes `part-<from>-<to>.parquet` in every hour it
 * touches; the stream position is committed only after the files are durable. A crash
 * between the two leaves files past the committed position, which start-up removes before
 * the stream delivers those records again — so each record lands exactly once.
 */
export class LakeSink {
  private sub: Subscription | null = null;
  private lastCompaction = 0;
  private stopping = false;
  ready = false;

  constructor(private readonly o: LakeSinkOptions) {}

  async start(): Promise<void> {
    const committed = await this.o.log.committed(this.o.topic, GROUP);
    const { removed } = recoverTable(tableDir(this.o.dataDir, this.o.table.name), committed);
    if (removed.length > 0)
      this.o.onError?.(new Error(`recovered lake: removed ${removed.length} uncommitted file(s)`));
    this.subscribe();
  }

  /** A failed write (disk full, DuckDB error) is not committed: log it, back off, and consume again. */
  private subscribe(): void {
    if (this.stopping) return;
    this.sub = this.o.log.consume(this.o.topic, GROUP, (records) => this.handle(records), {
      maxBatch: this.o.flushMaxRecords,
      maxWaitMs: this.o.flushIntervalMs,
    });
    this.ready = true;
    this.sub.done.catch((err) => {
      this.ready = false;
      this.o.onError?.(err);
      setTimeout(() => this.subscribe(), 1000).unref();
    });
  }

  private async handle(records: StoredRecord[]): Promise<void> {
    const started = performance.now();
    const from = records[0].position;
    const to = records[records.length - 1].position;
    const files = await this.o.writer.write(
      this.o.table,
      records.map((r) => r.value),
      `part-${from}-${to}.parquet`,
    );
    this.o.onFlush?.({
      table: this.o.table.name,
      records: records.length,
      files: files.length,
      ms: performance.now() - started,
    });
    // Compaction runs between batches in this same loop, so it never races a flush.
    if (Date.now() - this.lastCompaction > 60_000) {
      this.lastCompaction = Date.now();
      await this.compactClosedHours();
    }
  }

  /** Merges the small files of every hour that closed more than compactAfterMinutes ago. */
  async compactClosedHours(now = Date.now()): Promise<number> {
    let compacted = 0;
    const cutoff = now - this.o.compactAfterMinutes * 60_000;
    for (const [partition, files] of listPartitions(tableDir(this.o.dataDir, this.o.table.name))) {
      const m = /^dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})$/.exec(partition);
      if (!m) continue;
      const hourEnd = Date.parse(`${m[1]}T${m[2]}:00:00Z`) + 3_600_000;
      const streamFiles = files.filter((f) => f.kind === 'part' || f.kind === 'compact');
      if (hourEnd > cutoff || streamFiles.length < 2) continue;
      const from = Math.min(...streamFiles.map((f) => f.from));
      const to = Math.max(...streamFiles.map((f) => f.to));
      await this.o.writer.compact(
        this.o.table,
        partition,
        streamFiles.map((f) => f.name),
        `compact-${from}-${to}.parquet`,
      );
      compacted++;
    }
    return compacted;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.ready = false;
    await this.sub?.stop();
  }
}
