import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tableDir } from '../lake/lake.js';

/** A day of the events table as it is on disk: its Parquet files and a signature of them. */
export interface LakeDay {
  day: string;
  files: string[];
  bytes: number;
  signature: string;
}

interface HourListing {
  mtimeMs: number;
  files: { path: string; part: string; size: number }[];
}

const DT_DIR = /^dt=(\d{4}-\d{2}-\d{2})$/;
/** A directory changed this recently may change again within its mtime's resolution: read it again. */
const SETTLE_MS = 2000;

/**
 * Lists the days of the events table with the files each holds, for the rollups to tell which
 * days changed. Lake files never change in place (they are written elsewhere and renamed in,
 * and removed or replaced by rename), so an hour directory whose mtime is unchanged, and old
 * enough not to be racing a rename within the clock's resolution, still holds the same files:
 * its listing is reused. That makes a look at 40 days ~25 stat calls a day instead of a stat
 * per file.
 */
export class LakeDayLister {
  private readonly hours = new Map<string, HourListing>();

  constructor(private readonly dataDir: string) {}

  /** Days in [from, to) (from null: from the first), oldest first. */
  list(from: string | null = null, to = '9999-12-31'): LakeDay[] {
    const dir = tableDir(this.dataDir, 'events');
    if (!existsSync(dir)) return [];
    const out: LakeDay[] = [];
    const seen = new Set<string>();
    for (const entry of readdirSync(dir).sort()) {
      const day = DT_DIR.exec(entry)?.[1];
      if (!day || (from !== null && day < from) || day >= to) continue;
      const listed = this.readDay(day, join(dir, entry), seen);
      if (listed) out.push(listed);
    }
    for (const key of this.hours.keys()) {
      const day = /dt=(\d{4}-\d{2}-\d{2})/.exec(key)?.[1] ?? '';
      if (!seen.has(key) && (from === null || day >= from) && day < to) this.hours.delete(key);
    }
    return out;
  }

  private readDay(day: string, dayDir: string, seen: Set<string>): LakeDay | null {
    let hours: string[];
    try {
      hours = readdirSync(dayDir)
        .filter((h) => h.startsWith('hour='))
        .sort();
    } catch {
      return null; // removed while we looked
    }
    const files: HourListing['files'] = [];
    for (const hour of hours) {
      const path = join(dayDir, hour);
      seen.add(path);
      const listing = this.readHour(path, hour);
      if (listing) files.push(...listing.files);
    }
    if (files.length === 0) return null;
    return {
      day,
      files: files.map((f) => f.path),
      bytes: files.reduce((n, f) => n + f.size, 0),
      signature: createHash('sha256')
        .update(files.map((f) => f.part).join('\n'))
        .digest('hex'),
    };
  }

  private readHour(path: string, hour: string): HourListing | null {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(path).mtimeMs;
    } catch {
      return null;
    }
    const cached = this.hours.get(path);
    if (cached && cached.mtimeMs === mtimeMs) return cached;
    const files: HourListing['files'] = [];
    for (const f of readdirSync(path).sort()) {
      if (!f.endsWith('.parquet') || f.startsWith('.')) continue;
      try {
        const st = statSync(join(path, f));
        files.push({ path: join(path, f), part: `${hour}/${f}:${st.size}:${st.mtimeMs}`, size: st.size });
      } catch {
        // removed while we looked (compaction): the next look sees the new state
      }
    }
    const listing = { mtimeMs, files };
    // Only a listing read after the directory settled may be trusted for as long as its mtime holds.
    if (Date.now() - mtimeMs > SETTLE_MS) this.hours.set(path, listing);
    else this.hours.delete(path);
    return listing;
  }
}

/** Every day of the events table, listed afresh. */
export const lakeDays = (dataDir: string): LakeDay[] => new LakeDayLister(dataDir).list();
