import { ApiError, Unauthorized } from './api';

/**
 * The alerting API as the Alerts page uses it: src/collector/routes-alerts.ts (alerts, history,
 * acknowledge, silences, channels, offenders, blocklist, alert series) and
 * src/collector/routes-alert-rules.ts (threshold rules and their 7-day preview). The types are
 * copies of src/alerts/types.ts, manager.ts, notifier.ts, detectors/traffic.ts,
 * detectors/threshold.ts and rule-preview.ts (keep them in step); the dashboard never imports
 * server code.
 */

// ---- Copied from src/alerts/types.ts and manager.ts ----

export type Severity = 'critical' | 'warning' | 'info';
export type AlertState = 'pending' | 'firing' | 'resolved';
export type Labels = Record<string, string>;

export interface Band {
  expected: number;
  lower: number;
  upper: number;
}

export interface Alert {
  fingerprint: string;
  rule: string;
  site: string;
  labels: Labels;
  severity: Severity;
  state: AlertState;
  summary: string;
  since: number;
  firingSince: number | null;
  resolvedAt: number | null;
  lastSeen: number;
  value?: number;
  band?: Band;
  /** Known shapes: see alert-evidence.tsx; anything else is shown as JSON text. */
  evidence?: Record<string, unknown>;
  /** `silence:<id>`, `maintenance:<id>` or `inhibited:<alertname>`. */
  mutedBy?: string | null;
  acknowledgedBy?: string | null;
}

export interface HistoryEntry {
  id: number;
  fingerprint: string;
  rule: string;
  site: string;
  at: number;
  state: AlertState;
  summary: string;
  labels: Labels;
  value: number | null;
  band: Band | null;
}

/** Label → value, or `~regex`. */
export type Matchers = Record<string, string>;

export interface Silence {
  id: string;
  kind: 'silence' | 'maintenance';
  matchers: Matchers;
  startsAt: number;
  endsAt: number;
  author: string;
  comment: string;
  createdAt: number;
}

// ---- Copied from src/alerts/notifier.ts ----

export type ChannelType = 'webhook' | 'slack' | 'email' | 'alertmanager';
export const CHANNEL_TYPES: readonly ChannelType[] = ['webhook', 'slack', 'email', 'alertmanager'];

export interface Channel {
  id: string;
  name: string;
  type: ChannelType;
  target: string;
  minSeverity: Severity;
  sites: string[];
  createdBy: string;
  createdAt: number;
}

/** A notification that failed (and is retried, or was given up on after 8 attempts). */
export interface DeliveryFailure {
  id: number;
  fingerprint: string;
  state: string;
  at: number;
  attempts: number;
  error: string | null;
  delivered_at: number | null;
}

// ---- Copied from src/alerts/detectors/traffic.ts ----

export type OffenderReason =
  | 'request_rate'
  | 'many_sessions'
  | 'traffic_share'
  | 'session_rate'
  | 'scraper'
  | 'card_testing'
  | 'cart_without_views';

export interface Offender {
  kind: 'ip' | 'network' | 'session';
  key: string;
  reasons: OffenderReason[];
  firstSeen: number;
  lastSeen: number;
  flaggedAt: number;
  lastFlagged: number;
  requests10s: number;
  requests60s: number;
  peak60s: number;
  sessions60s?: number;
  botRequests: number;
  userAgents: string[];
  ips?: { ip: string; requests: number }[];
  paymentAttempts?: number;
  paymentErrors?: number;
  carts?: number;
}

export interface SeriesPoint {
  minute: number;
  value: number | null;
  expected: number | null;
  /** The order-rate rule's band (expected ± z·σ) when the series was asked for over a window. */
  lower?: number | null;
  upper?: number | null;
}

// ---- Copied from src/alerts/detectors/threshold.ts, threshold-rules.ts and rule-preview.ts ----

export type Op = '<' | '<=' | '>' | '>=';
export const OPS: readonly Op[] = ['<', '<=', '>', '>='];
export type Day = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const DAYS: readonly Day[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface ThresholdRule {
  id: string;
  site?: string;
  metric: string;
  windowMinutes: number;
  op: Op;
  value: number;
  between?: { from: string; to: string };
  days?: Day[];
  timeZone?: string;
  severity?: Severity;
  summary?: string;
}

export interface StoredRule {
  rule: ThresholdRule;
  createdBy: string;
  createdAt: number;
  updatedBy: string;
  updatedAt: number;
  /** The saved rule no longer validates: it is not evaluated. */
  errors?: string[];
}

export interface MetricInfo {
  name: string;
  description: string;
}

export interface FiredInterval {
  start: number;
  end: number;
  peak: number;
  open: boolean;
}

export interface RulePreview {
  site: string;
  metric: string;
  op: Op;
  threshold: number;
  windowMinutes: number;
  from: number;
  to: number;
  evaluated: number;
  firedMinutes: number;
  intervals: FiredInterval[];
  series: [number, number | null][];
  note?: string;
}

/** A rule the API refused, with each problem tied to the form field it is about (null: the rule as a whole). */
export class RuleInvalid extends ApiError {
  constructor(
    status: number,
    message: string,
    readonly problems: { field: string | null; message: string }[],
  ) {
    super(status, message);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  if (res.status === 401) throw new Unauthorized();
  if (res.status === 204) return null as T;
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const message = body?.error ?? `${res.status} ${res.statusText}`;
    if (Array.isArray(body?.details?.errors)) throw new RuleInvalid(res.status, message, body.details.errors);
    throw new ApiError(res.status, message);
  }
  return body as T;
}

const send = (csrfToken: string, method: string, body?: unknown): RequestInit => ({
  method,
  headers: {
    'x-csrf-token': csrfToken,
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  },
  body: body === undefined ? undefined : JSON.stringify(body),
});
const q = encodeURIComponent;

export const alertsApi = {
  alerts: (site: string) => call<{ alerts: Alert[] }>(`/api/v1/alerts?site=${q(site)}`).then((r) => r.alerts),
  history: (site: string, limit = 200) =>
    call<{ history: HistoryEntry[] }>(`/api/v1/alerts/history?site=${q(site)}&limit=${limit}`).then(
      (r) => r.history,
    ),
  acknowledge: (csrf: string, fingerprint: string) =>
    call<null>(`/api/v1/alerts/${q(fingerprint)}/ack`, send(csrf, 'POST', {})),
  series: (site: string, metric: string, from: number, to: number, window?: number) =>
    call<{ points: SeriesPoint[] }>(
      `/api/v1/sites/${q(site)}/alert-series?metric=${q(metric)}&from=${from}&to=${to}${window ? `&window=${window}` : ''}`,
    ).then((r) => r.points),

  silences: () => call<{ silences: Silence[] }>('/api/v1/silences').then((r) => r.silences),
  addSilence: (
    csrf: string,
    s: { kind: Silence['kind']; matchers: Matchers; startsAt: number; endsAt: number; comment: string },
  ) =>
    call<Silence>(
      '/api/v1/silences',
      send(csrf, 'POST', {
        ...s,
        startsAt: new Date(s.startsAt).toISOString(),
        endsAt: new Date(s.endsAt).toISOString(),
      }),
    ),
  expireSilence: (csrf: string, id: string) => call<null>(`/api/v1/silences/${q(id)}`, send(csrf, 'DELETE')),

  offenders: (site: string) =>
    call<{ offenders: Offender[] }>(`/api/v1/sites/${q(site)}/offenders`).then((r) => r.offenders),
  blocklistUrl: (site: string, format: 'plain' | 'nginx') =>
    `/api/v1/sites/${q(site)}/blocklist?format=${format}`,

  channels: () => call<{ channels: Channel[]; failures: DeliveryFailure[] }>('/api/v1/alert-channels'),
  addChannel: (
    csrf: string,
    c: { name: string; type: ChannelType; target: string; minSeverity: Severity; sites: string[] },
  ) => call<{ channel: Channel; secret?: string }>('/api/v1/alert-channels', send(csrf, 'POST', c)),
  removeChannel: (csrf: string, id: string) =>
    call<null>(`/api/v1/alert-channels/${q(id)}`, send(csrf, 'DELETE')),
  testChannel: (csrf: string, id: string) =>
    call<{ ok: boolean; detail: string }>(`/api/v1/alert-channels/${q(id)}/test`, send(csrf, 'POST', {})),

  rules: () => call<{ rules: StoredRule[]; metrics: MetricInfo[] }>('/api/v1/alert-rules'),
  createRule: (csrf: string, rule: unknown) =>
    call<{ rule: StoredRule }>('/api/v1/alert-rules', send(csrf, 'POST', rule)),
  replaceRule: (csrf: string, id: string, rule: unknown) =>
    call<{ rule: StoredRule }>(`/api/v1/alert-rules/${q(id)}`, send(csrf, 'PUT', rule)),
  removeRule: (csrf: string, id: string) => call<null>(`/api/v1/alert-rules/${q(id)}`, send(csrf, 'DELETE')),
  preview: (csrf: string, site: string, rule: unknown) =>
    call<RulePreview>('/api/v1/alert-rules/preview', send(csrf, 'POST', { site, rule })),
};
