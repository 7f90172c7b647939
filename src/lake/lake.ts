import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { BAD_RECORD_COLUMNS, EVENT_COLUMNS } from '../events/model.js';
import { LOG_COLUMNS } from '../logs/log-record.js';

/**
 * The lake's layout: `<dataDir>/lake/<table>/dt=YYYY-MM-DD/hour=HH/<name>.parquet`.
 * Files appear atomically (written under a dot-name, fsynced, renamed), so a reader or a
 * crash never sees half a file.
 *
 * File names carry the stream positions they cover, which makes writes idempotent:
 *   part-<from>-<to>.parquet     one flush of stream positions from..to
 *   compact-<from>-<to>.parquet  the merge of every file of a closed hour
 *   import-<tag>-<n>.parquet     a bulk import (tag = hash of the file's identity)
 */
export interface LakeTable {
  name: 'events' | 'bad_records' | 'logs';
  /** Column name and DuckDB type, in file order. */
  columns: [string, string][];
  /** Column whose hour decides the partition. */
  timeColumn: string;
  /** Column that identifies a record, for de-duplication on compaction. */
  idColumn: string;
}

export const LAKE_TABLES: Record<LakeTable['name'], LakeTable> = {
  events: { name: 'events', columns: EVENT_COLUMNS, timeColumn: 'event_time', idColumn: 'event_id' },
  bad_records: {
    name: 'bad_records',
    columns: BAD_RECORD_COLUMNS,
    timeColumn: 'received_at',
    idColumn: 'bad_id',
  },
  logs: { name: 'logs', columns: LOG_COLUMNS, timeColumn: 'log_time', idColumn: 'log_id' },
};

export const TIMESTAMP_COLUMNS = new Set(['event_time', 'received_at', 'log_time']);

export const lakeDir = (dataDir: string) => join(dataDir, 'lake');
export const tableDir = (dataDir: string, table: string) => join(lakeDir(dataDir), table);

export interface PartitionFile {
  partition: string; // dt=…/hour=…
  name: string;
  kind: 'part' | 'compact' | 'import' | 'other';
  from: number;
  to: number;
}

const FILE_RE = /^(part|compact)-(\d+)-(\d+)\.parquet$/;

export function parseFileName(partition: string, name: string): PartitionFile {
  const m = FILE_RE.exec(name);
  if (m) return { partition, name, kind: m[1] as 'part' | 'compact', from: Number(m[2]), to: Number(m[3]) };
  return { partition, name, kind: name.startsWith('import-') ? 'import' : 'other', from: 0, to: 0 };
}

/** Every partition directory of a table with its Parquet files. */
export function listPartitions(dir: string): Map<string, PartitionFile[]> {
  const out = new Map<string, PartitionFile[]>();
  if (!existsSync(dir)) return out;
  for (const dt of readdirSync(dir)) {
    if (!dt.startsWith('dt=')) continue;
    for (const hour of readdirSync(join(dir, dt))) {
      if (!hour.startsWith('hour=')) continue;
      const partition = `${dt}/${hour}`;
      const files = readdirSync(join(dir, partition))
        .filter((f) => f.endsWith('.parquet') && !f.startsWith('.'))
        .map((f) => parseFileName(partition, f));
      out.set(partition, files);
    }
  }
  return out;
}

export function hasParquet(dir: string): boolean {
  for (const files of listPartitions(dir).values()) if (files.length > 0) return true;
  return false;
}

export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Moves a finished temp file into place and makes both the file and its directory entry durable. */
export function publishFile(tmpPath: string, finalDir: string, name: string): void {
  mkdirSync(finalDir, { recursive: true });
  fsyncPath(tmpPath);
  renameSync(tmpPath, join(finalDir, name));
  fsyncPath(finalDir);
}

/**
 * After a crash: files from a flush whose stream position was never committed are removed
 * (the stream will deliver those records again), as are inputs a finished compaction
 * already covers.
 */
export function recoverTable(dir: string, committedPosition: number): { removed: string[] } {
  const removed: string[] = [];
  for (const [partition, files] of listPartitions(dir)) {
    const compacts = files.filter((f) => f.kind === 'compact');
    for (const f of files) {
      const uncommitted = (f.kind === 'part' || f.kind === 'compact') && f.to > committedPosition;
      const covered =
        (f.kind === 'part' || f.kind === 'compact') &&
        compacts.some(
          (c) => c !== f && c.from <= f.from && f.to <= c.to && (c.from !== f.from || c.to !== f.to),
        );
      if (uncommitted || covered) {
        rmSync(join(dir, partition, f.name), { force: true });
        removed.push(`${partition}/${f.name}`);
      }
    }
  }
  return { removed };
}
