import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LogRecord } from '../log-record.js';
import { DayIndex, dayOf } from './day-index.js';

export const logsIndexDir = (dataDir: string) => join(dataDir, 'logs-index');

export interface SourceRetention {
  maxAgeDays?: number;
  maxBytes?: number;
}

export interface RetentionPolicy {
  /** Whole days older than this are dropped (0 = keep). */
  maxAgeDays: number;
  /** Oldest days are dropped while the index is larger (0 = no cap). */
  maxBytes: number;
  /** Tighter limits for single sources (by raw bytes of their lines). */
  sources: Record<string, SourceRetention>;
}

export interface RetentionResult {
  daysDropped: string[];
  rowsDeleted: number;
}

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.sqlite$/;
const DAY_MS = 86_400_000;

/** The set of day files; opens each on first use and keeps it open. */
export class LogIndex {
  private readonly open = new Map<string, DayIndex>();

  constructor(readonly dir: string) {}

  /** Days present, oldest first. */
  days(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .map((f) => DAY_FILE.exec(f)?.[1])
      .filter((d): d is string => !!d)
      .sort();
  }

  day(day: string): DayIndex {
    let d = this.open.get(day);
    if (!d) {
      d = new DayIndex(this.dir, day);
      this.open.set(day, d);
    }
    return d;
  }

  /** Days overlapping [from, to), newest first. */
  daysBetween(from: number | null, to: number | null): DayIndex[] {
    const lo = from === null ? '' : dayOf(from);
    const hi = to === null ? '9999' : dayOf(Math.max(to - 1, 0));
    return this.days()
      .filter((d) => d >= lo && d <= hi)
      .reverse()
      .map((d) => this.day(d));
  }

  /** Indexes stream records; each day file saves its own applied position with its rows. */
  applyFromStream(topic: string, batch: { position: number; record: LogRecord }[]): number {
    const byDay = new Map<string, { position: number; record: LogRecord }[]>();
    for (const b of batch) {
      const d = dayOf(b.record.log_time);
      const list = byDay.get(d) ?? [];
      if (list.length === 0) byDay.set(d, list);
      list.push(b);
    }
    let added = 0;
    for (const [d, list] of byDay) added += this.day(d).applyFromStream(topic, list);
    return added;
  }

  applyImport(tag: string, records: LogRecord[]): number {
    const byDay = new Map<string, LogRecord[]>();
    for (const r of records) {
      const d = dayOf(r.log_time);
      const list = byDay.get(d) ?? [];
      if (list.length === 0) byDay.set(d, list);
      list.push(r);
    }
    let added = 0;
    for (const [d, list] of byDay) added += this.day(d).applyImport(tag, list);
    return added;
  }

  bytes(day: string): number {
    let total = 0;
    for (const suffix of ['', '-wal']) {
      const p = join(this.dir, `${day}.sqlite${suffix}`);
      if (existsSync(p)) total += statSync(p).size;
    }
    return total;
  }

  drop(day: string): void {
    this.open.get(day)?.close();
    this.open.delete(day);
    for (const suffix of ['', '-wal', '-shm'])
      rmSync(join(this.dir, `${day}.sqlite${suffix}`), { force: true });
  }

  /** Drops whole days by age and total size, then trims single sources by their own limits. */
  enforceRetention(policy: RetentionPolicy, now = Date.now()): RetentionResult {
    const result: RetentionResult = { daysDropped: [], rowsDeleted: 0 };
    const today = dayOf(now);
    let days = this.days();
    if (policy.maxAgeDays > 0) {
      const oldest = dayOf(now - policy.maxAgeDays * DAY_MS);
      for (const d of days) if (d < oldest && d !== today) this.dropInto(d, result);
    }
    days = this.days();
    if (policy.maxBytes > 0) {
      let total = days.reduce((s, d) => s + this.bytes(d), 0);
      for (const d of days) {
        if (total <= policy.maxBytes || d === today) break;
        total -= this.bytes(d);
        this.dropInto(d, result);
      }
    }
    for (const [source, limit] of Object.entries(policy.sources)) {
      days = this.days();
      if (limit.maxAgeDays) {
        const before = now - limit.maxAgeDays * DAY_MS;
        for (const d of days)
          if (Date.parse(`${d}T00:00:00Z`) < before)
            result.rowsDeleted += this.day(d).deleteSource(source, before);
      }
      if (limit.maxBytes) {
        let kept = 0;
        for (const d of [...days].reverse()) {
          kept += this.day(d).sourceBytes().get(source) ?? 0;
          if (kept > limit.maxBytes)
            result.rowsDeleted += this.day(d).deleteSource(source, Number.MAX_SAFE_INTEGER);
        }
      }
    }
    return result;
  }

  private dropInto(day: string, result: RetentionResult): void {
    this.drop(day);
    result.daysDropped.push(day);
  }

  close(): void {
    for (const d of this.open.values()) d.close();
    this.open.clear();
  }
}
