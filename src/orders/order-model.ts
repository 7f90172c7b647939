import type { CanonicalEvent } from '../events/model.js';

/**
 * What the order history keeps, and how a customer is named.
 *
 * A customer is the event's `user_id`, or its `visitor_id` when the buyer was anonymous, so an
 * anonymous purchase is found by searching the visitor id. There is no identity stitching: a
 * user's orders placed before they logged in stay under their visitor id.
 */

/** The fields of a canonical event the order history reads; the stream leaves nulls out. */
export type OrderEvent = Pick<CanonicalEvent, 'event_id' | 'event_time' | 'site_id' | 'event_type'> &
  Partial<
    Pick<
      CanonicalEvent,
      | 'event_name'
      | 'product_id'
      | 'category_code'
      | 'brand'
      | 'price'
      | 'quantity'
      | 'currency'
      | 'order_id'
      | 'revenue'
      | 'user_id'
      | 'visitor_id'
      | 'path'
      | 'is_bot'
    >
  >;

export type CustomerKind = 'user' | 'visitor';
export type OrderStatus = 'purchased' | 'partially_refunded' | 'refunded';

export interface OrderLine {
  eventId: string;
  kind: 'purchase' | 'refund';
  time: number;
  productId: string | null;
  brand: string | null;
  categoryCode: string | null;
  price: number | null;
  quantity: number | null;
  /** Line revenue for a purchase; the amount given back (positive) for a refund. */
  amount: number;
}

export interface Order {
  orderId: string;
  customer: string;
  userId: string | null;
  visitorId: string | null;
  /** Time of the order's first purchase line (its first refund line if no purchase arrived yet), ms. */
  time: number;
  /** Time of its newest line, ms. */
  updatedAt: number;
  status: OrderStatus;
  currency: string | null;
  total: number;
  refunded: number;
  items: number;
  lines: OrderLine[];
}

export interface Activity {
  eventId: string;
  time: number;
  type: string;
  name: string | null;
  productId: string | null;
  price: number | null;
  quantity: number | null;
  orderId: string | null;
  revenue: number | null;
  path: string | null;
}

export interface CustomerSummary {
  site: string;
  customer: string;
  kind: CustomerKind;
  firstSeen: number;
  lastSeen: number;
  orders: number;
  /** Sum of purchase lines, and of what was refunded; `net` = spent − refunded. */
  spent: number;
  refunded: number;
  net: number;
  currency: string | null;
  /** Newest first, at most the store's per-customer cap. */
  activity: Activity[];
}

export interface OrderPage {
  orders: Order[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export const customerOf = (e: OrderEvent): string | null => e.user_id ?? e.visitor_id ?? null;

/**
 * Purchases without an order id (REES46 history has none) are one-line orders named by their
 * event id; refunds need an order id to find their order.
 */
export const orderIdOf = (e: OrderEvent): string | null =>
  e.order_id ?? (e.event_type === 'purchase' ? e.event_id : null);

/** A purchase line's revenue: `revenue` (the collector fills it as price × quantity), else price × quantity. */
export function purchaseAmount(e: OrderEvent): number {
  if (e.revenue != null) return e.revenue;
  if (e.price != null) return e.price * (e.quantity ?? 1);
  return 0;
}

/**
 * A refund's amount when the event says it: |revenue| (Segment sends it negative), else
 * price × quantity. null means "look it up": the product's purchased lines, or the whole order.
 */
export function statedRefund(e: OrderEvent): number | null {
  if (e.revenue != null && e.revenue !== 0) return Math.abs(e.revenue);
  if (e.price != null) return e.price * (e.quantity ?? 1);
  return null;
}

/** Cents tolerance: sums of floats should not leave an order "partially" refunded by 1e-12. */
export function orderStatus(o: { total: number; refunded: number; fullRefund: boolean }): OrderStatus {
  if (o.fullRefund || (o.refunded > 0 && o.refunded >= o.total - 0.005)) return 'refunded';
  return o.refunded > 0 ? 'partially_refunded' : 'purchased';
}

/** Anonymous bot traffic is not anyone's customer activity; identified users' events always are. */
export const keepsActivity = (e: OrderEvent): boolean => !(e.is_bot && e.user_id == null);

/** Cursors are opaque to callers: base64url of `<time>:<order id>` of the last order on a page. */
export function encodeCursor(time: number, orderId: string): string {
  return Buffer.from(`${time}:${orderId}`).toString('base64url');
}

export function decodeCursor(cursor: string): { time: number; orderId: string } | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const i = text.indexOf(':');
  const time = Number(text.slice(0, i));
  if (i < 1 || !Number.isSafeInteger(time)) return null;
  return { time, orderId: text.slice(i + 1) };
}
