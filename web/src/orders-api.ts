import { ApiError, Unauthorized } from './api';

/**
 * The order-history API the customer page reads (src/collector/routes-orders.ts). Types mirror
 * src/orders/order-model.ts; they are copied because the server's modules use Node built-ins.
 */

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
  amount: number;
}

export interface Order {
  orderId: string;
  customer: string;
  userId: string | null;
  visitorId: string | null;
  time: number;
  updatedAt: number;
  status: OrderStatus;
  currency: string | null;
  total: number;
  refunded: number;
  items: number;
  lines: OrderLine[];
}

export interface OrderPage {
  orders: Order[];
  nextCursor: string | null;
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
  kind: 'user' | 'visitor';
  firstSeen: number;
  lastSeen: number;
  orders: number;
  spent: number;
  refunded: number;
  net: number;
  currency: string | null;
  activity: Activity[];
}

export const ORDERS_PAGE_SIZE = 20;

async function get<T>(path: string): Promise<T> {
  const res = await fetch(path, { credentials: 'same-origin' });
  if (res.status === 401) throw new Unauthorized();
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body?.error ?? `${res.status} ${res.statusText}`);
  return body as T;
}

const userPath = (site: string, user: string) =>
  `/api/v1/sites/${encodeURIComponent(site)}/users/${encodeURIComponent(user)}`;

export const ordersApi = {
  /** null when the site has never seen this user or visitor. */
  customer: (site: string, user: string) =>
    get<CustomerSummary>(userPath(site, user)).catch((err) => {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }),
  orders: (site: string, user: string, cursor: string | null = null) =>
    get<OrderPage>(
      `${userPath(site, user)}/orders?limit=${ORDERS_PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    ),
};
