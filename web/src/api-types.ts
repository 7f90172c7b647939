/**
 * The JSON the dashboard reads. These mirror src/realtime/snapshot.ts, src/ops/summary.ts, the
 * login contract and the admin APIs (users, API keys, audit log); they are copied rather than
 * imported because the server's modules pull in Node built-ins the browser build cannot type-check.
 */

export type Role = 'admin' | 'analyst' | 'viewer';
export const ROLES: readonly Role[] = ['viewer', 'analyst', 'admin'];
export interface User {
  id: string;
  email: string;
  role: Role;
}
/** What the signed-in user may do (src/auth/roles.ts permissionsOf): pages are shown or hidden by it. */
export interface Permissions {
  realtime: boolean;
  query: boolean;
  admin: boolean;
}
export interface Session {
  user: User;
  permissions: Permissions;
  csrfToken: string;
  expiresAt: number;
}

/** GET /api/v1/users (src/collector/routes-users.ts). */
export interface UserInfo extends User {
  createdAt: number;
  updatedAt: number;
}

export type Scope = 'query' | 'admin';
/** src/auth/api-keys.ts ApiKeyInfo: never the secret, which only the create answer carries. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  scopes: Scope[];
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

/** src/auth/audit.ts AUDIT_ACTIONS. */
export const AUDIT_ACTIONS = [
  'login',
  'login_failed',
  'lockout',
  'logout',
  'setup_used',
  'user_created',
  'user_removed',
  'user_role_changed',
  'user_password_set',
  'api_key_created',
  'api_key_revoked',
  'recs_training_started',
  'recs_availability_changed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export interface AuditEntry {
  id: number;
  at: number;
  /** A string, not only AuditAction: a newer server may record actions this build does not know. */
  action: string;
  actor: string | null;
  target: string | null;
  ip: string | null;
  userAgent: string | null;
  detail: Record<string, unknown> | null;
}
export interface AuditPage {
  entries: AuditEntry[];
  /** The id to pass as `before` for the next (older) page. */
  next: number | null;
}

export interface TopItem {
  key: string;
  count: number;
  error: number;
}
export type TopList =
  | 'pages'
  | 'products'
  | 'categories'
  | 'brands'
  | 'referrers'
  | 'utmSources'
  | 'utmCampaigns'
  | 'browsers'
  | 'os'
  | 'devices';

export interface WindowCounts {
  events: number;
  byType: Record<string, number>;
  visitors: number;
  orders: number;
  revenue: number;
  aov: number | null;
  botEvents: number;
}
export interface AbnormalCounts {
  late: number;
  quarantined: number;
  invalid: number;
}
export interface WindowSummary extends WindowCounts {
  funnel: { view: number; cart: number; purchase: number };
  bots: { events: number; share: number; byType: Record<string, number> };
  top: Record<TopList, TopItem[]>;
}
export interface SeriesPoint extends WindowCounts, AbnormalCounts {
  start: number;
  closed: boolean;
}
export interface FeedItem {
  event_id: string;
  event_time: number;
  received_at: number;
  event_type: string;
  event_name: string | null;
  path: string | null;
  product_id: string | null;
  brand: string | null;
  revenue: number | null;
  visitor_id: string;
  referrer_host: string | null;
  browser: string | null;
  os: string | null;
  device_type: string | null;
  is_bot: boolean;
  late: boolean;
}
export interface Snapshot {
  siteId: string;
  resolution: 'minute' | 'hour';
  from: number;
  to: number;
  watermark: number | null;
  series: SeriesPoint[];
  totals: WindowSummary & AbnormalCounts;
  live: (WindowSummary & { activeVisitors: number; from: number; to: number }) | null;
  recent: FeedItem[];
  clamped: boolean;
}

export interface SiteSourceCount {
  site: string;
  source: string;
  total: number;
}
export interface OpsSummary {
  at: number;
  ingested: { total: number; bySource: SiteSourceCount[] };
  rejected: { total: number; bySource: SiteSourceCount[] };
  streamLag: { topic: string; group: string; records: number }[];
  lakeFlush: { table: string; flushes: number; seconds: number; records: number }[];
  process: {
    uptimeSeconds: number;
    rssBytes: number;
    heapUsedBytes: number;
    heapTotalBytes: number;
    cpuSeconds: number;
    eventLoopLagSeconds: number | null;
    eventLoopLagP99Seconds: number | null;
  };
  ready: { ready: boolean; checks: Record<string, boolean> };
}

export interface SiteInfo {
  id: string;
  name: string;
}
