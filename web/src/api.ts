import type {
  ApiKeyInfo,
  AuditPage,
  OpsSummary,
  Role,
  Scope,
  Session,
  SiteInfo,
  Snapshot,
  UserInfo,
} from './api-types';

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

const json = (body: unknown, csrfToken?: string, method = 'POST'): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json', ...(csrfToken ? { 'x-csrf-token': csrfToken } : {}) },
  body: JSON.stringify(body),
});
const remove = (csrfToken: string): RequestInit => ({
  method: 'DELETE',
  headers: { 'x-csrf-token': csrfToken },
});
const id = encodeURIComponent;

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

  // Admin only. Changes carry the session's CSRF token.
  users: () => call<{ users: UserInfo[] }>('/api/v1/users').then((r) => r.users),
  addUser: (csrfToken: string, user: { email: string; role: Role; password: string }) =>
    call<{ user: UserInfo }>('/api/v1/users', json(user, csrfToken)).then((r) => r.user),
  changeUser: (csrfToken: string, userId: string, change: { role?: Role; password?: string }) =>
    call<{ user: UserInfo }>(`/api/v1/users/${id(userId)}`, json(change, csrfToken, 'PATCH')).then(
      (r) => r.user,
    ),
  removeUser: (csrfToken: string, userId: string) =>
    call<null>(`/api/v1/users/${id(userId)}`, remove(csrfToken)),
  apiKeys: () => call<{ apiKeys: ApiKeyInfo[] }>('/api/v1/api-keys').then((r) => r.apiKeys),
  createApiKey: (csrfToken: string, name: string, scopes: Scope[]) =>
    call<{ key: string; apiKey: ApiKeyInfo }>('/api/v1/api-keys', json({ name, scopes }, csrfToken)),
  revokeApiKey: (csrfToken: string, keyId: string) =>
    call<null>(`/api/v1/api-keys/${id(keyId)}`, remove(csrfToken)),
  audit: (q: { limit: number; before?: number }) =>
    call<AuditPage>(
      `/api/v1/audit?${new URLSearchParams({ limit: String(q.limit), ...(q.before ? { before: String(q.before) } : {}) })}`,
    ),
};

export interface SnapshotParams {
  range: string;
  resolution: 'minute' | 'hour';
  top?: number;
}
const params = (q: SnapshotParams) =>
  new URLSearchParams({ range: q.range, resolution: q.resolution, top: String(q.top ?? 10) }).toString();
