import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { SiteConfig } from '../config/schema.js';

export interface Site {
  id: string;
  name: string;
  writeKey: string;
  origins: string[];
}

export const newWriteKey = () => `sp_wk_${randomBytes(18).toString('base64url')}`;

interface SiteRow {
  id: string;
  name: string;
  write_key: string;
  origins: string;
}
const toSite = (r: SiteRow): Site => ({
  id: r.id,
  name: r.name,
  writeKey: r.write_key,
  origins: JSON.parse(r.origins),
});

/** Sites and their write keys: declared in config, or added with `storepulse sites add` (stored in meta.sqlite). */
export class SiteRegistry {
  private byKey = new Map<string, Site>();
  private loadedAt = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly fromConfig: SiteConfig[] = [],
  ) {
    this.reload();
  }

  reload(): void {
    const rows = this.db.prepare('SELECT id, name, write_key, origins FROM sites').all() as SiteRow[];
    const sites = [...rows.map(toSite), ...this.fromConfig.map((s) => ({ ...s, name: s.name ?? s.id }))];
    this.byKey = new Map(sites.map((s) => [s.writeKey, s]));
    this.loadedAt = Date.now();
  }

  /** Looks a write key up; re-reads the table (at most once a second) so keys added by the CLI work at once. */
  byWriteKey(key: string): Site | null {
    const hit = this.byKey.get(key);
    if (hit || Date.now() - this.loadedAt < 1000) return hit ?? null;
    this.reload();
    return this.byKey.get(key) ?? null;
  }

  list(): Site[] {
    return [...this.byKey.values()];
  }

  get(id: string): Site | null {
    return this.list().find((s) => s.id === id) ?? null;
  }

  add(id: string, opts: { name?: string; origins?: string[] } = {}): Site {
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(id)) {
      throw new Error(`site id "${id}" must be lowercase letters, digits, - or _ (at most 63)`);
    }
    if (this.get(id)) throw new Error(`site "${id}" already exists`);
    const site: Site = { id, name: opts.name ?? id, writeKey: newWriteKey(), origins: opts.origins ?? [] };
    this.db
      .prepare('INSERT INTO sites (id, name, write_key, origins, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(site.id, site.name, site.writeKey, JSON.stringify(site.origins), Date.now());
    this.reload();
    return site;
  }
}

/** Whether a browser Origin may send for this site (no list = any origin; server-side callers send none). */
export function originAllowed(site: Site, origin: string | undefined): boolean {
  if (!origin || site.origins.length === 0) return true;
  return site.origins.includes(origin);
}
