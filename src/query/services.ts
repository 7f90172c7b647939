import type Database from 'better-sqlite3';
import type { Principal } from '../auth/authenticate.js';
import { QueryHistory } from './query-history.js';
import { RunningQueries } from './running-queries.js';
import { type Caller, SavedQueries } from './saved-queries.js';

/** What the SQL console keeps besides the sandbox: running queries, history, saved queries. */
export interface QueryServices {
  running: RunningQueries;
  history: QueryHistory;
  saved: SavedQueries;
}

export function createQueryServices(db: Database.Database): QueryServices {
  return { running: new RunningQueries(), history: new QueryHistory(db), saved: new SavedQueries(db) };
}

/** A signed-in user or an API key, as history and saved queries name them. */
export function callerOf(p: Principal): Caller {
  if (p.kind === 'session') return { id: `user:${p.user.id}`, name: p.user.email, role: p.user.role };
  // Keys predate roles: an admin-scoped key acts as an admin, a query key as an analyst.
  return {
    id: `api-key:${p.key.id}`,
    name: `API key ${p.key.name}`,
    role: p.key.scopes.includes('admin') ? 'admin' : 'analyst',
  };
}
