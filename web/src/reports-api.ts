import { ApiError, Unauthorized } from './api';

/**
 * The store reports API (src/collector/routes-reports.ts) and scheduled reports
 * (src/collector/routes-schedules.ts), as the Reports page uses them. The types below are a copy of
 * src/reports/types.ts (keep them in step); the dashboard never imports server code.
 *
 *   GET /api/v1/sites/:site/reports            → ReportList
 *   GET /api/v1/sites/:site/reports/:id?…       → ReportAnswer; &format=csv → CSV download
 *   errors: 400 { error, parameter? }, 401/403, 404, 408 (time limit)
 *
 * Common parameters: `from`, `to` (UTC days, `to` exclusive), `bots` (exclude | include).
 */

// ---- Copied from src/reports/types.ts ----

export type ReportId =
  | 'visitors'
  | 'cart-abandonment'
  | 'category-heatmap'
  | 'brand-marketing'
  | 'funnel'
  | 'revenue'
  | 'traffic-sources';

/** One parameter a report takes, for building its form. */
export interface ReportParameter {
  name: string;
  type: 'date' | 'enum' | 'integer' | 'number';
  description: string;
  /** As it would be sent in the query string; `from`/`to` defaults depend on today. */
  default: string;
  /** enum: the allowed values. */
  values?: string[];
  /** integer/number: inclusive bounds. */
  min?: number;
  max?: number;
}

export interface ReportInfo {
  id: ReportId;
  title: string;
  description: string;
  parameters: ReportParameter[];
}

/** GET /api/v1/sites/:site/reports */
export interface ReportList {
  site: string;
  reports: ReportInfo[];
}

/**
 * How to show a column: `date` is 'YYYY-MM-DD'; `money` is in the site's currency (2
 * decimals); `ratio` is 0..1 (or more for change figures; null when the denominator is 0);
 * `integer` and `number` are plain numbers.
 */
export type ColumnType = 'date' | 'string' | 'integer' | 'number' | 'money' | 'ratio';

export interface ReportColumn {
  name: string;
  label: string;
  type: ColumnType;
  description?: string;
}

export type Cell = string | number | null;

/** GET /api/v1/sites/:site/reports/:id */
export interface ReportAnswer<Row = Record<string, Cell>> {
  report: ReportId;
  site: string;
  /** Every parameter with the value used (defaults filled in), as query-string text. */
  params: Record<string, string>;
  /** In row-key order. Which columns appear can depend on parameters (e.g. `by`). */
  columns: ReportColumn[];
  rows: Row[];
  /** brand-marketing only: the flagging rule in words, with the parameters' values. */
  rule?: string;
  elapsedMs: number;
}

// ---- Rows per report (column names as sent) ----

/** visitors?grain=day|week|month: one row per period (weeks start on Monday), empty periods as 0. */
export interface VisitorsRow {
  period: string; // first day of the period (may be before `from` for week/month)
  first_day: string; // first day of the period inside the range
  last_day: string; // last day of the period inside the range
  visitors: number; // distinct visitors over the whole period (not a sum of days)
  sessions: number;
  events: number;
  page_views: number;
  views: number; // product views
}

/** cart-abandonment?by=day: one row per day. A session abandons when it adds to cart and does not purchase. */
export interface AbandonmentDayRow {
  day: string;
  cart_sessions: number;
  abandoned_sessions: number;
  abandonment_rate: number | null; // abandoned / cart sessions
  abandoning_visitors: number; // distinct visitors with an abandoned session that day
  value_left: number; // units added minus removed, at the product's cart price, in abandoned sessions
}

/** cart-abandonment?by=product (limit): products left in abandoned carts, most sessions first. */
export interface AbandonmentProductRow {
  product_id: string;
  brand: string | null;
  category: string | null;
  abandoned_sessions: number;
  units_left: number;
  value_left: number;
}

/** cart-abandonment?by=brand (limit). */
export interface AbandonmentBrandRow {
  brand: string | null;
  abandoned_sessions: number;
  units_left: number;
  value_left: number;
}

/**
 * category-heatmap?by=hour|weekday&metric=…&top=N: the top N categories by `metric` over the
 * range, one row per category × hour (0–23 UTC) or × weekday (1 = Monday … 7 = Sunday), zeros included.
 */
export interface HeatmapRow {
  category: string;
  rank: number; // 1 = highest `metric`
  hour?: number; // by=hour
  weekday?: number; // by=weekday
  weekday_name?: string; // by=weekday: Mon … Sun
  views: number;
  carts: number;
  purchases: number;
  revenue: number;
}

/** brand-marketing: one row per brand, flagged brands first; see `rule` in the answer. */
export interface BrandMarketingRow {
  brand: string;
  category: string | null; // where the brand has most views
  views: number;
  carts: number;
  purchases: number;
  revenue: number;
  view_to_cart: number | null;
  cart_to_purchase: number | null;
  view_to_purchase: number | null;
  category_view_to_purchase: number | null;
  views_first_half: number;
  views_second_half: number;
  views_change: number | null; // (second − first) / first
  category_views_change: number | null;
  flags: string; // comma-separated: low_conversion, falling_views; '' if none
}

/**
 * funnel?dimension=day|category|brand|device|referrer: view → cart → purchase. Session counts
 * are sessions with at least one such event (for category/brand: of a product in it); for
 * device and referrer a session is attributed by its first event.
 */
export interface FunnelRow {
  day?: string;
  category?: string | null;
  brand?: string | null;
  device?: string | null;
  referrer?: string;
  sessions: number;
  view_sessions: number;
  cart_sessions: number;
  purchase_sessions: number;
  views: number;
  carts: number;
  purchases: number;
  revenue: number;
  view_to_cart: number | null; // cart_sessions / view_sessions
  cart_to_purchase: number | null; // purchase_sessions / cart_sessions
  conversion: number | null; // purchase_sessions / sessions
}

/** revenue: one row per day. A buyer is new on the first day they ever purchased (all history, same bots setting). */
export interface RevenueRow {
  day: string;
  revenue: number;
  orders: number;
  average_order_value: number | null;
  units: number;
  buyers: number;
  new_buyers: number;
  returning_buyers: number;
}

/** traffic-sources?by=referrer|utm_source|campaign: sessions by how they arrived. */
export interface TrafficSourceRow {
  referrer?: string; // by=referrer
  utm_source?: string; // by=utm_source or campaign
  utm_campaign?: string; // by=campaign
  sessions: number;
  visitors: number;
  converting_sessions: number;
  conversion_rate: number | null;
  orders: number;
  revenue: number;
}

// ---- Scheduled reports (src/reports/schedules.ts) ----

export type Cadence = 'daily' | 'weekly';
export type Channel = 'email' | 'webhook';

export interface ScheduleInput {
  site: string;
  report: string;
  /** Report parameters other than the date range, which the cadence decides. */
  params: Record<string, string>;
  cadence: Cadence;
  /** UTC hour to send at, 0–23. */
  hour: number;
  /** Weekly: 0 = Sunday … 6 = Saturday (UTC). */
  weekday: number | null;
  channel: Channel;
  /** E-mail: comma-separated addresses. Webhook: the URL. */
  target: string;
}

export interface Schedule extends ScheduleInput {
  id: string;
  createdBy: string;
  createdAt: number;
  nextRunAt: number;
  lastRunAt: number | null;
  lastStatus: 'sent' | 'failed' | null;
  lastError: string | null;
  failures: number;
}

/** POST /api/v1/report-schedules: a webhook's signing secret comes only in this answer. */
export interface CreatedSchedule {
  schedule: Schedule;
  secret?: string;
}

/** POST /api/v1/report-schedules/:id/send */
export interface SendResult {
  ok: boolean;
  /** Where it went, or why it failed. */
  detail: string;
  schedule: Schedule | null;
}

// ---- Calls ----

/** A refusal of the reports API; `parameter` names the query parameter it was about, if any. */
export class ReportApiError extends ApiError {
  constructor(
    status: number,
    message: string,
    readonly parameter?: string,
  ) {
    super(status, message);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin', ...init });
  if (res.status === 401) throw new Unauthorized();
  if (res.status === 204) return null as T;
  const body = await res.json().catch(() => null);
  if (!res.ok && !(res.status === 502 && body?.schedule)) {
    const why =
      res.status === 408 ? 'The report took longer than the time limit; try a shorter range.' : null;
    throw new ReportApiError(
      res.status,
      body?.error ?? why ?? `${res.status} ${res.statusText}`,
      body?.parameter,
    );
  }
  return body as T;
}

const sitePath = (site: string) => `/api/v1/sites/${encodeURIComponent(site)}/reports`;

/** Query-string text of a report's parameters, in a stable order. */
export const reportQuery = (params: Record<string, string>) => new URLSearchParams(params).toString();

export const reportsApi = {
  list: (site: string, signal?: AbortSignal) => call<ReportList>(sitePath(site), { signal }),
  run: (site: string, id: ReportId, params: Record<string, string>, signal?: AbortSignal) =>
    call<ReportAnswer>(`${sitePath(site)}/${encodeURIComponent(id)}?${reportQuery(params)}`, { signal }),
  /** The same report as a CSV file (the server names it storepulse-<site>-<report>-<from>-<to>.csv). */
  csvUrl: (site: string, id: ReportId, params: Record<string, string>) =>
    `${sitePath(site)}/${encodeURIComponent(id)}?${reportQuery({ ...params, format: 'csv' })}`,

  schedules: (site: string) =>
    call<{ schedules: Schedule[] }>(`/api/v1/report-schedules?site=${encodeURIComponent(site)}`).then(
      (r) => r.schedules,
    ),
  createSchedule: (csrfToken: string, input: ScheduleInput) =>
    call<CreatedSchedule>('/api/v1/report-schedules', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
      body: JSON.stringify(input),
    }),
  removeSchedule: (csrfToken: string, id: string) =>
    call<null>(`/api/v1/report-schedules/${encodeURIComponent(id)}`, {
      method: 'DELETE',
      headers: { 'x-csrf-token': csrfToken },
    }),
  sendSchedule: (csrfToken: string, id: string) =>
    call<SendResult>(`/api/v1/report-schedules/${encodeURIComponent(id)}/send`, {
      method: 'POST',
      headers: { 'x-csrf-token': csrfToken },
    }),
};
