import { ApiError, Unauthorized } from './api';

/**
 * The SQL console's and the catalog's API (src/collector/routes-sql.ts, routes-catalog.ts).
 * Types mirror src/query/* and src/catalog/catalog.ts; they are copied because the server's
 * modules use Node built-ins.
 */

export interface QueryColumn {
  name: string;
  type: string;
}
export interface QueryResult {
  columns: QueryColumn[];
  rows: Record<string, unknown>[];
  truncated: boolean;
  elapsedMs: number;
}
export type QueryStatus = 'ok' | 'error' | 'refused' | 'timeout' | 'cancelled';

/** A query the server refused or stopped, with its reason (`cancelled`, `timeout`, `invalid`, …). */
export class QueryFailed extends ApiError {
  constructor(
    status: number,
    message: string,
    readonly code: string,
  ) {
    super(status, message);
  }
}

export interface HistoryEntry {
  id: number;
  sql: string;
  startedAt: number;
  elapsedMs: number;
  rows: number | null;
  status: QueryStatus;
  error: string | null;
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
  editable: boolean;
}
export type SavedQueryInput = Pick<SavedQuery, 'name' | 'sql' | 'description' | 'shared'>;

export interface CatalogColumn {
  name: string;
  type: string;
  types?: string[];
  partition?: boolean;
  files: number;
  firstSeen?: string;
  lastSeen?: string;
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
  freshness: { newest: Record<string, number | null>; lastWriteAt: number | null };
  unreadable: { file: string; reason: string }[];
}
export interface Catalog {
  tables: CatalogTable[];
  generatedAt: number;
  elapsedMs: number;
  filesRead: number;
}

export interface Download {
  blob: Blob;
  fileName: string;
  rows: number;
  limitReached: boolean;
}

async function send(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  if (res.status === 401) throw new Unauthorized();
  if (!res.ok) {
    const body = await res.json().catch(() => null);
    const message = body?.error ?? `${res.status} ${res.statusText}`;
    throw body?.code ? new QueryFailed(res.status, message, body.code) : new ApiError(res.status, message);
  }
  return res;
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await send(path, init);
  return (res.status === 204 ? null : await res.json()) as T;
}

const withBody = (method: string, body: unknown, csrfToken: string, signal?: AbortSignal): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
  body: JSON.stringify(body),
  signal,
});

/** A fresh id per run, so Cancel names exactly this query. */
export const newQueryId = () => `q-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

export const sqlApi = {
  run: (sql: string, queryId: string, csrfToken: string) =>
    call<QueryResult>('/api/v1/query', withBody('POST', { sql, queryId }, csrfToken)),
  cancel: (queryId: string, csrfToken: string) =>
    call<{ cancelled: boolean }>(
      `/api/v1/query/${encodeURIComponent(queryId)}/cancel`,
      withBody('POST', {}, csrfToken),
    ),
  async download(sql: string, format: 'csv' | 'parquet', csrfToken: string): Promise<Download> {
    const res = await send('/api/v1/query/export', withBody('POST', { sql, format }, csrfToken));
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1];
    return {
      blob: await res.blob(),
      fileName: name ?? `storepulse-query.${format}`,
      rows: Number(res.headers.get('x-row-count') ?? 0),
      limitReached: res.headers.get('x-row-limit-reached') === 'true',
    };
  },
  history: () => call<{ entries: HistoryEntry[] }>('/api/v1/query/history').then((r) => r.entries),
  saved: () => call<{ queries: SavedQuery[] }>('/api/v1/saved-queries').then((r) => r.queries),
  save: (q: SavedQueryInput, csrfToken: string) =>
    call<SavedQuery>('/api/v1/saved-queries', withBody('POST', q, csrfToken)),
  update: (id: string, patch: Partial<SavedQueryInput>, csrfToken: string) =>
    call<SavedQuery>(`/api/v1/saved-queries/${encodeURIComponent(id)}`, withBody('PATCH', patch, csrfToken)),
  remove: (id: string, csrfToken: string) =>
    call<null>(`/api/v1/saved-queries/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      headers: { 'x-csrf-token': csrfToken },
    }),
  catalog: () => call<Catalog>('/api/v1/catalog'),
};

/** Hands a downloaded file to the browser's save dialog. */
export function saveFile(d: Download): void {
  const url = URL.createObjectURL(d.blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = d.fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
