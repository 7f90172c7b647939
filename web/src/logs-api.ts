import { ApiError, Unauthorized } from './api';

/**
 * The Logs page's API (src/collector/routes-logs.ts). Types mirror src/logs/search/log-search.ts;
 * they are copied because the server's modules use Node built-ins.
 */

export interface LogHit {
  id: number;
  time: string;
  source?: string | null;
  host?: string | null;
  ip?: string | null;
  method?: string | null;
  path?: string | null;
  status?: number | null;
  bytes?: number | null;
  user_agent?: string | null;
  message?: string | null;
  raw?: string | null;
  parse_error?: string | null;
  fields?: Record<string, unknown> | null;
  [field: string]: unknown;
}
export interface SearchPage {
  hits: LogHit[];
  page: number;
  size: number;
  hasMore: boolean;
  tookMs: number;
}
export interface Histogram {
  total: number;
  intervalMs: number;
  buckets: { time: string; count: number }[];
}
export type TopValue = { value: string | number | null; count: number };
export type FieldTops = Record<'status' | 'path' | 'ip' | 'user_agent', TopValue[]>;

export interface LogQuery {
  site: string;
  q: string;
  /** ms since epoch or null for open ends. */
  from: number | null;
  to: number | null;
}

/** The query language refused the text: `position` is the 0-based offset it points at. */
export class LogQueryFailed extends ApiError {
  constructor(
    message: string,
    readonly position: number | null,
  ) {
    super(400, message);
  }
}

async function get<T>(path: string, q: LogQuery, extra: Record<string, string> = {}): Promise<T> {
  const params = new URLSearchParams({ site: q.site, q: q.q, ...extra });
  if (q.from !== null) params.set('from', String(q.from));
  if (q.to !== null) params.set('to', String(q.to));
  const res = await fetch(`${path}?${params}`, { credentials: 'same-origin' });
  if (res.status === 401) throw new Unauthorized();
  const body = await res.json().catch(() => null);
  if (res.status === 400 && body?.details && 'position' in body.details)
    throw new LogQueryFailed(
      body.error,
      typeof body.details.position === 'number' ? body.details.position : null,
    );
  if (!res.ok) throw new ApiError(res.status, body?.error ?? `${res.status} ${res.statusText}`);
  return body as T;
}

export const logsApi = {
  search: (q: LogQuery, page: number, size = 50) =>
    get<SearchPage>('/api/v1/logs/search', q, { page: String(page), size: String(size) }),
  histogram: (q: LogQuery) => get<Histogram>('/api/v1/logs/histogram', q),
  fields: (q: LogQuery) => get<FieldTops>('/api/v1/logs/fields', q),
};
