import type { OpsSummary, Session, SiteInfo, Snapshot } from './api-types';

/** The API refused the session (expired or logged out elsewhere): the app shows the login page. */
export class Unauthorized extends Error {}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  // Same origin, so the HttpOnly session cookie goes along; no token is ever kept in JS storage.
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  if (res.status === 401) throw new Unauthorized();
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body?.error ?? `${res.status} ${res.statusText}`);
  return body as T;
}

const json = (body: unknown, csrfToken?: string): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(csrfToken ? { 'x-csrf-token': csrfToken } : {}) },
  body: JSON.stringify(body),
});

export const api = {
  me: () => call<Session>('/api/v1/me'),
  login: (email: string, password: string) => call<Session>('/api/v1/login', json({ email, password })),
  setup: (token: string, email: string, password: string) =>
    call<Session>('/api/v1/setup', json({ token, email, password })),
  logout: (csrfToken: string) => call<unknown>('/api/v1/logout', json({}, csrfToken)),
  sites: () => call<{ sites: SiteInfo[] }>('/api/v1/sites').then((r) => r.sites),
  ops: () => call<OpsSummary>('/api/v1/ops'),
  snapshot: (site: string, q: SnapshotParams) =>
    call<Snapshot>(`/api/v1/sites/${encodeURIComponent(site)}/realtime?${params(q)}`),
  streamUrl: (site: string, q: SnapshotParams) =>
    `/api/v1/sites/${encodeURIComponent(site)}/realtime/stream?${params(q)}`,
};

export interface SnapshotParams {
  range: string;
  resolution: 'minute' | 'hour';
  top?: number;
}
const params = (q: SnapshotParams) =>
  new URLSearchParams({ range: q.range, resolution: q.resolution, top: String(q.top ?? 10) }).toString();
