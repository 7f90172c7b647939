import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Role } from '../auth/roles.js';

/** Whoever calls, as the saved-query rules see them. */
export interface Caller {
  /** `user:<id>` or `api-key:<id>`. */
  id: string;
  /** Shown as the owner: the user's email or the key's name. */
  name: string;
  role: Role;
}

export interface SavedQuery {
  id: string;
  name: string;
  sql: string;
  description: string;
  owner: string;
  ownerName: string;
  shared: boolean;
  createdAt: number;
  updatedAt: number;
  /** Whether the caller may change or delete it (its owner, or an admin). */
  editable: boolean;
}

export interface SavedQueryInput {
  name: string;
  sql: string;
  description: string;
  shared: boolean;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; status: 400 | 403 | 404; reason: string };

const LIMITS = { name: 200, sql: 100_000, description: 2_000 };

/** Checks a create (all fields) or an update (any subset); names the bad field. */
export function parseSavedQuery(body: unknown, partial: boolean): Outcome<Partial<SavedQueryInput>> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, status: 400, reason: 'send JSON {"name", "sql", "description"?, "shared"?}' };
  }
  const b = body as Record<string, unknown>;
  const out: Partial<SavedQueryInput> = {};
  for (const key of Object.keys(b)) {
    if (!['name', 'sql', 'description', 'shared'].includes(key)) {
      return {
        ok: false,
        status: 400,
        reason: `unknown field "${key}" (allowed: name, sql, description, shared)`,
      };
    }
  }
  for (const key of ['name', 'sql', 'description'] as const) {
    const v = b[key];
    if (v === undefined) continue;
    if (typeof v !== 'string') return { ok: false, status: 400, reason: `"${key}" must be a string` };
    if (key !== 'description' && v.trim() === '')
      return { ok: false, status: 400, reason: `"${key}" is empty` };
    if (v.length > LIMITS[key]) {
      return { ok: false, status: 400, reason: `"${key}" is longer than ${LIMITS[key]} characters` };
    }
    out[key] = key === 'name' ? v.trim() : v;
  }
  if (b.shared !== undefined) {
    if (typeof b.shared !== 'boolean')
      return { ok: false, status: 400, reason: '"shared" must be true or false' };
    out.shared = b.shared;
  }
  if (!partial) {
    if (out.name === undefined || out.sql === undefined) {
      return { ok: false, status: 400, reason: 'a saved query needs "name" and "sql"' };
    }
    out.description ??= '';
    out.shared ??= false;
  }
  return { ok: true, value: out };
}

interface Row {
  id: string;
  name: string;
  sql: string;
  description: string;
  owner: string;
  owner_name: string;
  shared: number;
  created_at: number;
  updated_at: number;
}

/**
 * Saved queries (meta DB `saved_queries`): private to their owner unless shared with the team.
 * Everyone who may sign in sees shared ones; only the owner or an admin changes or deletes one.
 */
export class SavedQueries {
  constructor(private readonly db: Database.Database) {}

  private canEdit = (c: Caller, r: Row) => r.owner === c.id || c.role === 'admin';
  private canSee = (c: Caller, r: Row) => r.shared === 1 || this.canEdit(c, r);

  private view(c: Caller, r: Row): SavedQuery {
    return {
      id: r.id,
      name: r.name,
      sql: r.sql,
      description: r.description,
      owner: r.owner,
      ownerName: r.owner_name,
      shared: r.shared === 1,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      editable: this.canEdit(c, r),
    };
  }

  private row(id: string): Row | undefined {
    return this.db.prepare('SELECT * FROM saved_queries WHERE id = ?').get(id) as Row | undefined;
  }

  /** The caller's own and the shared ones (admins see all), by name. */
  list(c: Caller): SavedQuery[] {
    const rows = this.db
      .prepare(
        'SELECT * FROM saved_queries WHERE shared = 1 OR owner = ? OR ? ORDER BY name COLLATE NOCASE, created_at',
      )
      .all(c.id, c.role === 'admin' ? 1 : 0) as Row[];
    return rows.map((r) => this.view(c, r));
  }

  get(c: Caller, id: string): Outcome<SavedQuery> {
    const r = this.row(id);
    // Someone else's private query does not exist, as far as the caller can tell.
    if (!r || !this.canSee(c, r)) return { ok: false, status: 404, reason: `no saved query ${id}` };
    return { ok: true, value: this.view(c, r) };
  }

  create(c: Caller, input: SavedQueryInput): SavedQuery {
    const now = Date.now();
    const id = randomUUID();
    this.db
      .prepare(
        `INSERT INTO saved_queries (id, name, sql, description, owner, owner_name, shared, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(id, input.name, input.sql, input.description, c.id, c.name, input.shared ? 1 : 0, now, now);
    return this.view(c, this.row(id) as Row);
  }

  update(c: Caller, id: string, patch: Partial<SavedQueryInput>): Outcome<SavedQuery> {
    const found = this.editable(c, id);
    if (!found.ok) return found;
    const r = found.value;
    this.db
      .prepare(
        'UPDATE saved_queries SET name = ?, sql = ?, description = ?, shared = ?, updated_at = ? WHERE id = ?',
      )
      .run(
        patch.name ?? r.name,
        patch.sql ?? r.sql,
        patch.description ?? r.description,
        (patch.shared ?? r.shared === 1) ? 1 : 0,
        Date.now(),
        id,
      );
    return { ok: true, value: this.view(c, this.row(id) as Row) };
  }

  remove(c: Caller, id: string): Outcome<null> {
    const found = this.editable(c, id);
    if (!found.ok) return found;
    this.db.prepare('DELETE FROM saved_queries WHERE id = ?').run(id);
    return { ok: true, value: null };
  }

  private editable(c: Caller, id: string): Outcome<Row> {
    const r = this.row(id);
    if (!r || !this.canSee(c, r)) return { ok: false, status: 404, reason: `no saved query ${id}` };
    if (!this.canEdit(c, r)) {
      return {
        ok: false,
        status: 403,
        reason: `only its owner (${r.owner_name}) or an admin may change this query`,
      };
    }
    return { ok: true, value: r };
  }
}
