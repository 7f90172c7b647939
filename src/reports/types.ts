/**
 * The reports API, as the dashboard sees it. Types only, no imports: web/ can copy this file as
 * it is (web/src/reports-api-types.ts or similar).
 *
 *   GET /api/v1/sites/:site/reports               → ReportList
 *   GET /api/v1/sites/:site/reports/:id?from=…     → ReportAnswer (JSON)
 *   GET /api/v1/sites/:site/reports/:id?…&format=csv (or Accept: text/csv)
 *                                                   → CSV download, Content-Disposition filename
 *                                                     storepulse-<site>-<report>-<from>-<to>.csv
 *   errors: 400 { error, parameter? } for a bad parameter (the message says which and what is
 *   allowed), 401/403 without a session or key (role viewer suffices), 404 unknown site or
 *   report, 408 report took longer than the time limit, 503 + Retry-After while the server is
 *   still rolling up days it has not seen yet (after a large import or on first start): retry.
 *
 * Common parameters of every report: `from`, `to` (UTC days, YYYY-MM-DD, `to` exclusive; default
 * the last 28 days up to and including today) and `bots` (`exclude`, the default, or `include`).
 *
 * Definitions shared by all reports (src/reports/rollups.ts builds them):
 * - visitor: `visitor_id` (REES46 imports: user_id).
 * - session: one `user_session` of one visitor on one UTC day. Sessions end at midnight UTC, as
 *   in Google Analytics, so a visit across midnight counts on both days; session counts add up
 *   over days. Events without a session id form one session per visitor and day.
 * - revenue: per purchase event, `revenue`, else `price × quantity` (quantity 1 when absent),
 *   kept to the cent; other events have none. REES46 imports: one purchase row = price.
 * - order: a distinct `order_id` within a session; purchases without one (REES46) form one
 *   order per session and instant.
 * - category: `category_code`, or `category_id` where the code is empty.
 * - landing referrer: the referrer host of a session's first event; '(direct)' without one,
 *   '(internal)' when it is the site's own host. UTM source/campaign: of the first event;
 *   '(none)' without.
 * - bots=exclude drops events flagged `is_bot` before anything is counted.
 */

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
  converting_sessions: number;
  conversion_rate: number | null;
  orders: number;
  revenue: number;
}
