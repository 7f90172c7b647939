/**
 * The canonical event. Column names follow the public REES46 e-commerce dataset and extend
 * it (DESIGN.md "Event model"). Every input format (own JSON, Segment, REES46 CSV, pixel)
 * maps onto this, and the lake's `events` table has exactly these columns.
 */

export const EVENT_TYPES = [
  'view', // product viewed (REES46 "view")
  'cart', // product added to cart
  'remove_from_cart',
  'purchase', // one row per purchased product (REES46), or an order (Segment "Order Completed")
  'refund',
  'page_view',
  'cart_view',
  'checkout',
  'checkout_step',
  'payment_info',
  'search',
  'product_list_view',
  'product_click',
  'wishlist_add',
  'wishlist_remove',
  'coupon_applied',
  'identify',
  'custom',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export interface CanonicalEvent {
  event_id: string;
  event_time: number; // ms since epoch, UTC
  received_at: number; // ms since epoch, UTC
  site_id: string;
  event_type: EventType;
  event_name: string | null; // the sender's own name, e.g. Segment's "Product Viewed" or a custom event
  source: 'api' | 'js' | 'pixel' | 'segment' | 'import' | 'demo';
  product_id: string | null;
  category_id: string | null; // 19-digit ids in REES46: kept as strings
  category_code: string | null;
  brand: string | null;
  price: number | null;
  quantity: number | null;
  currency: string | null;
  order_id: string | null;
  revenue: number | null;
  user_id: string | null;
  user_session: string | null;
  visitor_id: string;
  url: string | null;
  path: string | null;
  referrer: string | null;
  referrer_host: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
  user_agent: string | null;
  browser: string | null;
  browser_version: string | null;
  os: string | null;
  device_type: string | null; // desktop | mobile | tablet | bot | other
  is_bot: boolean;
  ip: string | null; // anonymised unless configured otherwise
  props: string | null; // JSON text of everything else
}

/** Lake column order and DuckDB types. The lake writer and the empty-lake views use this. */
export const EVENT_COLUMNS: [keyof CanonicalEvent, string][] = [
  ['event_id', 'VARCHAR'],
  ['event_time', 'TIMESTAMP'],
  ['received_at', 'TIMESTAMP'],
  ['site_id', 'VARCHAR'],
  ['event_type', 'VARCHAR'],
  ['event_name', 'VARCHAR'],
  ['source', 'VARCHAR'],
  ['product_id', 'VARCHAR'],
  ['category_id', 'VARCHAR'],
  ['category_code', 'VARCHAR'],
  ['brand', 'VARCHAR'],
  ['price', 'DOUBLE'],
  ['quantity', 'INTEGER'],
  ['currency', 'VARCHAR'],
  ['order_id', 'VARCHAR'],
  ['revenue', 'DOUBLE'],
  ['user_id', 'VARCHAR'],
  ['user_session', 'VARCHAR'],
  ['visitor_id', 'VARCHAR'],
  ['url', 'VARCHAR'],
  ['path', 'VARCHAR'],
  ['referrer', 'VARCHAR'],
  ['referrer_host', 'VARCHAR'],
  ['utm_source', 'VARCHAR'],
  ['utm_medium', 'VARCHAR'],
  ['utm_campaign', 'VARCHAR'],
  ['utm_term', 'VARCHAR'],
  ['utm_content', 'VARCHAR'],
  ['user_agent', 'VARCHAR'],
  ['browser', 'VARCHAR'],
  ['browser_version', 'VARCHAR'],
  ['os', 'VARCHAR'],
  ['device_type', 'VARCHAR'],
  ['is_bot', 'BOOLEAN'],
  ['ip', 'VARCHAR'],
  ['props', 'VARCHAR'],
];

/** A quarantined input: what arrived, from where, and why it was refused. */
export interface BadRecord {
  bad_id: string;
  received_at: number;
  site_id: string | null;
  source: string; // api | segment | pixel | import | ...
  reason: string;
  raw: string; // the offending input (truncated to 64 KiB; binary as base64)
  line: number | null; // for file imports
  file: string | null;
}

export const BAD_RECORD_COLUMNS: [keyof BadRecord, string][] = [
  ['bad_id', 'VARCHAR'],
  ['received_at', 'TIMESTAMP'],
  ['site_id', 'VARCHAR'],
  ['source', 'VARCHAR'],
  ['reason', 'VARCHAR'],
  ['raw', 'VARCHAR'],
  ['line', 'BIGINT'],
  ['file', 'VARCHAR'],
];

/** Expected outcome of mapping one input: an event, or a reason it was refused. */
export type Mapped<T = CanonicalEvent> = { ok: true; value: T } | { ok: false; reason: string };

export const ok = <T>(value: T): Mapped<T> => ({ ok: true, value });
export const reject = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });
