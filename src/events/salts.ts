import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';

/**
 * The daily salt for cookieless visitor ids. A new random salt each UTC day; salts older
 * than yesterday are deleted, so yesterday's ids can never be recomputed or linked.
 */
export class DailySalt {
  private day = '';
  private salt = '';

  constructor(private readonly db: Database.Database) {}

  current(now = Date.now()): string {
    const day = new Date(now).toISOString().slice(0, 10);
    if (day === this.day) return this.salt;
    this.db
      .prepare('INSERT OR IGNORE INTO salts (day, salt) VALUES (?, ?)')
      .run(day, randomBytes(32).toString('hex'));
    const yesterday = new Date(now - 86_400_000).toISOString().slice(0, 10);
    this.db.prepare('DELETE FROM salts WHERE day < ?').run(yesterday);
    this.salt = (this.db.prepare('SELECT salt FROM salts WHERE day = ?').get(day) as { salt: string }).salt;
    this.day = day;
    return this.salt;
  }
}
