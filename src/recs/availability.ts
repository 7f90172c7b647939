import type Database from 'better-sqlite3';

/**
 * Products a store says it cannot sell now (out of stock, withdrawn), per site, in the meta
 * database. Recommendations leave them out until they are marked available again; the model
 * is not retrained for it. Kept in memory too (one Set per site) with a version number that
 * serving compares on each request, so a change applies to the next answer.
 */
export interface AvailabilityChange {
  unavailable?: string[];
  available?: string[];
}

export class ProductAvailability {
  private readonly cache = new Map<string, Set<string>>();
  private readonly versions = new Map<string, number>();

  constructor(private readonly db: Database.Database) {}

  /** The site's unavailable product ids (do not modify). */
  unavailable(siteId: string): ReadonlySet<string> {
    let set = this.cache.get(siteId);
    if (!set) {
      const rows = this.db
        .prepare('SELECT product_id FROM unavailable_products WHERE site_id = ?')
        .pluck()
        .all(siteId) as string[];
      set = new Set(rows);
      this.cache.set(siteId, set);
    }
    return set;
  }

  /** Changes with each write for the site, so readers can tell their copy is stale. */
  version(siteId: string): number {
    return this.versions.get(siteId) ?? 0;
  }

  /** Marks products (un)available in one transaction; a product in both lists ends available. Returns the new count. */
  apply(siteId: string, change: AvailabilityChange, now = Date.now()): number {
    const add = this.db.prepare(
      'INSERT INTO unavailable_products (site_id, product_id, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
    const remove = this.db.prepare('DELETE FROM unavailable_products WHERE site_id = ? AND product_id = ?');
    this.db.transaction(() => {
      for (const id of change.unavailable ?? []) add.run(siteId, id, now);
      for (const id of change.available ?? []) remove.run(siteId, id);
    })();
    this.cache.delete(siteId);
    this.versions.set(siteId, this.version(siteId) + 1);
    return this.unavailable(siteId).size;
  }
}
