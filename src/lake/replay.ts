import { join } from 'node:path';
import { DuckDBInstance, JsonDuckDBValueConverter } from '@duckdb/node-api';
import { type CanonicalEvent, EVENT_COLUMNS } from '../events/model.js';
import { LAKE_TABLES, listPartitions, type PartitionFile, tableDir } from './lake.js';
import { sqlString } from './writer.js';

export interface LakeReplayOptions {
  dataDir: string;
  /** Only events whose event_time is at or after this (epoch ms). */
  fromTime: number;
  /**
   * Stream files (`part-`/`compact-`) are read only when every record in them is at or before
   * this stream position, so a reader can resume the stream right after it without overlap.
   * Imported files never came through the stream and are always read.
   */
  maxStreamPosition: number;
  batchSize?: number;
  memoryLimit?: string;
  /** Told how many events the replay will yield, before the first batch. */
  onTotal?: (total: number) => void;
}

/** The lake files a replay reads: imports, and stream files wholly at or before `maxStreamPosition`. */
export function replayFiles(dataDir: string, maxStreamPosition: number, fromTime: number): string[] {
  const dir = tableDir(dataDir, LAKE_TABLES.events.name);
  const fromHour = Math.floor(fromTime / 3_600_000) * 3_600_000;
  const files: string[] = [];
  for (const [partition, list] of listPartitions(dir)) {
    if (partitionStart(partition) < fromHour) continue;
    for (const f of list) if (readable(f, maxStreamPosition)) files.push(join(dir, partition, f.name));
  }
  return files.sort();
}

const readable = (f: PartitionFile, max: number) =>
  f.kind === 'import' || ((f.kind === 'part' || f.kind === 'compact') && f.to <= max);

/** `dt=2026-11-23/hour=07` → its start in epoch ms (partitions are by event_time, UTC). */
function partitionStart(partition: string): number {
  const m = /^dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{1,2})$/.exec(partition);
  return m ? Date.parse(`${m[1]}T00:00:00Z`) + Number(m[2]) * 3_600_000 : Number.POSITIVE_INFINITY;
}

/**
 * Reads events back out of the lake in event-time order, in batches, as canonical events (times
 * in epoch ms, nulls dropped as on the stream). DuckDB streams the sorted result, so memory
 * stays bounded by its limit rather than by the lake's size.
 */
export async function* replayLakeEvents(o: LakeReplayOptions): AsyncGenerator<CanonicalEvent[]> {
  const files = replayFiles(o.dataDir, o.maxStreamPosition, o.fromTime);
  if (files.length === 0) return;
  const instance = await DuckDBInstance.create(':memory:', {
    threads: '2',
    memory_limit: o.memoryLimit ?? '1GB',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  try {
    const columns = EVENT_COLUMNS.map(([name]) =>
      name === 'event_time' || name === 'received_at' ? `epoch_ms(${name})::DOUBLE AS ${name}` : name,
    );
    const source = `read_parquet([${files.map(sqlString).join(', ')}], union_by_name = true)
        WHERE event_time >= epoch_ms(${Math.floor(o.fromTime)}::BIGINT)`;
    if (o.onTotal) {
      const counted = await conn.runAndReadAll(`SELECT count(*)::DOUBLE FROM ${source}`);
      o.onTotal(Number(counted.getRows()[0][0]));
    }
    const result = await conn.stream(
      `SELECT ${columns.join(', ')} FROM ${source} ORDER BY event_time, event_id`,
    );
    const names = result.columnNames();
    const size = o.batchSize ?? 10_000;
    let batch: CanonicalEvent[] = [];
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (const values of chunk.convertRows(JsonDuckDBValueConverter)) {
        const e: Record<string, unknown> = {};
        for (let i = 0; i < names.length; i++) if (values[i] !== null) e[names[i]] = values[i];
        batch.push(e as unknown as CanonicalEvent);
      }
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
