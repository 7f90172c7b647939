import { ApiKeys, type Scope } from '../auth/api-keys.js';
import { SiteRegistry } from '../auth/sites.js';
import type { Config } from '../config/schema.js';
import { openMetaDb } from '../meta/meta-db.js';
import { printTable } from './table.js';

export function sitesAdd(config: Config, id: string, o: { name?: string; origin?: string[] }): number {
  const db = openMetaDb(config.dataDir);
  try {
    const site = new SiteRegistry(db, config.sites).add(id, { name: o.name, origins: o.origin });
    console.log(`site ${site.id} added\nwrite key: ${site.writeKey}`);
    return 0;
  } catch (err) {
    console.error(`storepulse: ${(err as Error).message}`);
    return 1;
  } finally {
    db.close();
  }
}

export function sitesList(config: Config): number {
  const db = openMetaDb(config.dataDir);
  const rows = new SiteRegistry(db, config.sites)
    .list()
    .map((s) => ({ id: s.id, name: s.name, write_key: s.writeKey, origins: s.origins.join(' ') || '(any)' }));
  db.close();
  printTable(rows);
  return 0;
}

export function keysCreate(config: Config, name: string, scopes: Scope[]): number {
  const db = openMetaDb(config.dataDir);
  const { key, info } = new ApiKeys(db).create(name, scopes);
  db.close();
  console.log(`API key ${info.id} (${scopes.join(', ')}) created. It is shown only now:\n${key}`);
  return 0;
}

export function keysList(config: Config): number {
  const db = openMetaDb(config.dataDir);
  const rows = new ApiKeys(db).list().map((k) => ({
    id: k.id,
    name: k.name,
    scopes: k.scopes.join(','),
    created: new Date(k.createdAt).toISOString(),
    last_used: k.lastUsedAt ? new Date(k.lastUsedAt).toISOString() : '',
    revoked: k.revokedAt ? new Date(k.revokedAt).toISOString() : '',
  }));
  db.close();
  printTable(rows);
  return 0;
}

export function keysRevoke(config: Config, id: string): number {
  const db = openMetaDb(config.dataDir);
  const ok = new ApiKeys(db).revoke(id);
  db.close();
  console.log(ok ? `revoked ${id}` : `no active key with id ${id}`);
  return ok ? 0 : 1;
}
