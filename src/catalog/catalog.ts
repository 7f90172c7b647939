import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  LAKE_TABLES,
  type LakeTable,
  lakeDir,
  listPartitions,
  TIMESTAMP_COLUMNS,
  tableDir,
} from '../lake/lake.js';
import { lockedInstance } from '../query/sandbox.js';
import { type FileFacts, readFileFacts } from './parquet-facts.js';

export interface CatalogColumn {
  name: string;
  /** The type in the newest file that has the column (the view unifies older types into it). */
  type: string;
  /** Every type the column has had, oldest first, when it changed. */
  types?: string[];
  /** `dt` and `hour` come from the directory names, not from the files. */
  partition?: boolean;
  /** Files that have the column, of `CatalogTable.files`. */
  files: number;
  /** When only some files have it: the first and last day (dt) of a file that does. */
  firstSeen?: string;
  lastSeen?: string;
  /** It appears only in files from this day on: older files read it as NULL. */
  addedOn?: string;
}

export interface CatalogPartition {
  dt: string;
  hour: number;
  rows: number;
  files: number;
  bytes: number;
}

export interface CatalogTable {
  name: string;
  columns: CatalogColumn[];
  partitions: CatalogPartition[];
  rows: number;
  files: number;
  bytes: number;
  freshness: {
    /** Newest value per timestamp column (event_time, received_at), epoch ms. */
    newest: Record<string, number | null>;
    /** When the newest file was written (its mtime), epoch ms. */
    lastWriteAt: number | null;
  };
  /** Files whose footer could not be read, with DuckDB's reason (they are left out of the counts). */
  unreadable: { file: string; reason: string }[];
}

export interface Catalog {
  tables: CatalogTable[];
  generatedAt: number;
  elapsedMs: number;
  /** Files whose footer was read for this answer; the rest came from the cache. */
  filesRead: number;
}

interface CachedFile {
  mtimeMs: number;
  size: number;
  facts: FileFacts | { error: string };
}

interface ListedFile {
  path: string;
  rel: string;
  dt: string;
  hour: number;
  mtimeMs: number;
  size: number;
}

/** Footers are read this many files per DuckDB call. */
const BATCH = 256;

/**
 * The lake's catalog (what Glue's crawler keeps): tables, columns with types and when they
 * appeared, partitions with row counts and sizes, and freshness. Row counts and schemas come
 * from Parquet footers, cached per file by path, size and mtime, so after the first call only
 * new or rewritten files are read: a big lake answers in the time it takes to list it.
 */
export class LakeCatalog {
  private readonly cache = new Map<string, CachedFile>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly dataDir: string,
    private readonly instance: DuckDBInstance,
    private readonly conns: [DuckDBConnection, DuckDBConnection],
  ) {}

  static async open(dataDir: string): Promise<LakeCatalog> {
    // Trusted code, but it only ever needs to read the lake, so it gets nothing more.
    const instance = await lockedInstance([lakeDir(dataDir)], { threads: 2, memoryLimit: '256MB' });
    return new LakeCatalog(dataDir, instance, [await instance.connect(), await instance.connect()]);
  }

  /** One refresh at a time: concurrent callers would read the same new footers twice. */
  describe(): Promise<Catalog> {
    const run = this.queue.then(
      () => this.describeNow(),
      () => this.describeNow(),
    );
    this.queue = run.catch(() => {});
    return run;
  }

  private async describeNow(): Promise<Catalog> {
    const started = performance.now();
    const seen = new Set<string>();
    let filesRead = 0;
    const tables: CatalogTable[] = [];
    for (const table of Object.values(LAKE_TABLES)) {
      const files = listFiles(tableDir(this.dataDir, table.name));
      for (const f of files) seen.add(f.path);
      filesRead += await this.readMissing(files, timeColumnsOf(table));
      tables.push(this.tableOf(table, files));
    }
    for (const path of this.cache.keys()) if (!seen.has(path)) this.cache.delete(path);
    return { tables, generatedAt: Date.now(), elapsedMs: Math.round(performance.now() - started), filesRead };
  }

  private async readMissing(files: ListedFile[], timeColumns: string[]): Promise<number> {
    const missing = files.filter((f) => {
      const c = this.cache.get(f.path);
      return !c || c.mtimeMs !== f.mtimeMs || c.size !== f.size;
    });
    for (let i = 0; i < missing.length; i += BATCH) {
      const batch = missing.slice(i, i + BATCH);
      let facts: Map<string, FileFacts>;
      try {
        facts = await readFileFacts(
          this.conns,
          batch.map((f) => f.path),
          timeColumns,
        );
      } catch {
        // One bad or vanished file fails the batch: read them one by one to find it.
        facts = new Map();
        for (const f of batch) {
          try {
            for (const [k, v] of await readFileFacts(this.conns, [f.path], timeColumns)) facts.set(k, v);
          } catch (err) {
            if (!existsSync(f.path)) continue; // compacted away meanwhile: not part of the table now
            this.cache.set(f.path, {
              mtimeMs: f.mtimeMs,
              size: f.size,
              facts: { error: String((err as Error).message) },
            });
          }
        }
      }
      for (const f of batch) {
        const got = facts.get(f.path);
        if (got) this.cache.set(f.path, { mtimeMs: f.mtimeMs, size: f.size, facts: got });
      }
    }
    return missing.length;
  }

  private tableOf(table: LakeTable, files: ListedFile[]): CatalogTable {
    const partitions = new Map<string, CatalogPartition>();
    const columns = new Map<string, { types: string[]; files: number; first: string; last: string }>();
    const newest: Record<string, number | null> = Object.fromEntries(
      timeColumnsOf(table).map((c) => [c, null]),
    );
    const unreadable: CatalogTable['unreadable'] = [];
    let readable = 0;
    let lastWriteAt: number | null = null;
    // Oldest first, so columns are listed in the order they appeared.
    for (const f of files) {
      const cached = this.cache.get(f.path);
      if (!cached) continue; // vanished between listing and reading (compacted away)
      if ('error' in cached.facts) {
        unreadable.push({ file: f.rel, reason: cached.facts.error });
        continue;
      }
      readable++;
      const facts = cached.facts;
      const key = `${f.dt}/${f.hour}`;
      const p = partitions.get(key) ?? { dt: f.dt, hour: f.hour, rows: 0, files: 0, bytes: 0 };
      p.rows += facts.rows;
      p.files += 1;
      p.bytes += f.size;
      partitions.set(key, p);
      lastWriteAt = Math.max(lastWriteAt ?? 0, f.mtimeMs);
      for (const [name, type] of facts.columns) {
        const c = columns.get(name) ?? { types: [], files: 0, first: f.dt, last: f.dt };
        if (c.types.at(-1) !== type) c.types.push(type);
        c.files += 1;
        c.last = f.dt;
        columns.set(name, c);
      }
      for (const [name, value] of Object.entries(facts.newest)) {
        if (value !== null && (newest[name] === null || value > (newest[name] ?? 0))) newest[name] = value;
      }
    }
    const firstDt = files.find((f) => this.cache.has(f.path))?.dt;
    const list: CatalogColumn[] =
      columns.size === 0
        ? table.columns.map(([name, type]) => ({ name, type, files: 0 }))
        : [...columns].map(([name, c]) => {
            const col: CatalogColumn = { name, type: c.types.at(-1) ?? 'UNKNOWN', files: c.files };
            if (c.types.length > 1) col.types = c.types;
            if (c.files < readable) {
              col.firstSeen = c.first;
              col.lastSeen = c.last;
              if (firstDt !== undefined && c.first > firstDt) col.addedOn = c.first;
            }
            return col;
          });
    list.push(
      { name: 'dt', type: 'DATE', partition: true, files: readable },
      { name: 'hour', type: 'INTEGER', partition: true, files: readable },
    );
    const parts = [...partitions.values()].sort((a, b) => b.dt.localeCompare(a.dt) || b.hour - a.hour);
    return {
      name: table.name,
      columns: list,
      partitions: parts,
      rows: parts.reduce((s, p) => s + p.rows, 0),
      files: readable,
      bytes: parts.reduce((s, p) => s + p.bytes, 0),
      freshness: { newest, lastWriteAt },
      unreadable,
    };
  }

  close(): void {
    for (const c of this.conns) c.closeSync();
    this.instance.closeSync();
  }
}

const timeColumnsOf = (table: LakeTable) =>
  table.columns.map(([c]) => c).filter((c) => TIMESTAMP_COLUMNS.has(c));

/** The table's Parquet files with size and mtime, oldest partition first. */
function listFiles(dir: string): ListedFile[] {
  const out: ListedFile[] = [];
  for (const [partition, files] of listPartitions(dir)) {
    const m = /^dt=([^/]+)\/hour=(\d+)$/.exec(partition);
    if (!m) continue;
    for (const f of files) {
      const path = join(dir, partition, f.name);
      try {
        const st = statSync(path);
        out.push({
          path,
          rel: `${partition}/${f.name}`,
          dt: m[1],
          hour: Number(m[2]),
          mtimeMs: st.mtimeMs,
          size: st.size,
        });
      } catch {
        // Removed since the directory was listed (compaction): it no longer belongs to the table.
      }
    }
  }
  return out.sort((a, b) => a.dt.localeCompare(b.dt) || a.hour - b.hour || a.rel.localeCompare(b.rel));
}
