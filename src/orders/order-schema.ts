import type Database from 'better-sqlite3';
import { type Order, type OrderLine, orderStatus } from './order-model.js';

/** The order store's tables, its prepared statements, and how its rows become API objects. */

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS positions (topic TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS orders (
  site TEXT NOT NULL, order_id TEXT NOT NULL, customer TEXT NOT NULL, user_id TEXT, visitor_id TEXT,
  time INTEGER NOT NULL, updated INTEGER NOT NULL, currency TEXT,
  total REAL NOT NULL, items INTEGER NOT NULL, refunded REAL NOT NULL, full_refund INTEGER NOT NULL,
  purchase_lines INTEGER NOT NULL, refund_lines INTEGER NOT NULL,
  PRIMARY KEY (site, order_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS orders_by_customer ON orders (site, customer, time DESC, order_id DESC);
CREATE TABLE IF NOT EXISTS order_lines (
  site TEXT NOT NULL, order_id TEXT NOT NULL, event_id TEXT NOT NULL, kind TEXT NOT NULL, time INTEGER NOT NULL,
  product_id TEXT, brand TEXT, category_code TEXT, price REAL, quantity INTEGER, amount REAL NOT NULL,
  PRIMARY KEY (site, order_id, event_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS customers (
  site TEXT NOT NULL, customer TEXT NOT NULL, user_id TEXT, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  orders INTEGER NOT NULL DEFAULT 0, spent REAL NOT NULL DEFAULT 0, refunded REAL NOT NULL DEFAULT 0, currency TEXT,
  kept INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (site, customer)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS activity (
  site TEXT NOT NULL, customer TEXT NOT NULL, time INTEGER NOT NULL, event_id TEXT NOT NULL,
  type TEXT NOT NULL, name TEXT, product_id TEXT, price REAL, quantity INTEGER, order_id TEXT, revenue REAL, path TEXT,
  PRIMARY KEY (site, customer, time, event_id)) WITHOUT ROWID;
`;

/** Stores created before a column existed get it added (SQLite adds a defaulted column in place). */
export function migrate(db: Database.Database): void {
  const columns = (db.prepare('PRAGMA table_info(customers)').all() as { name: string }[]).map((c) => c.name);
  if (!columns.includes('kept')) db.exec('ALTER TABLE customers ADD COLUMN kept INTEGER NOT NULL DEFAULT 0');
}

export function prepare(db: Database.Database) {
  return {
    position: db.prepare(
      'INSERT INTO positions (topic, position) VALUES (?, ?) ON CONFLICT(topic) DO UPDATE SET position = excluded.position',
    ),
    line: db.prepare(
      `INSERT OR IGNORE INTO order_lines (site, order_id, event_id, kind, time, product_id, brand, category_code, price, quantity, amount)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    purchase: db.prepare(
      `INSERT INTO orders (site, order_id, customer, user_id, visitor_id, time, updated, currency, total, items,
                           refunded, full_refund, purchase_lines, refund_lines)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 1, 0)
       ON CONFLICT (site, order_id) DO UPDATE SET
         time = CASE WHEN purchase_lines = 0 THEN excluded.time ELSE min(time, excluded.time) END,
         updated = max(updated, excluded.updated), currency = coalesce(currency, excluded.currency),
         total = total + excluded.total, items = items + excluded.items,
         refunded = refunded + CASE WHEN full_refund THEN excluded.total ELSE 0 END,
         purchase_lines = purchase_lines + 1
       RETURNING customer, user_id, purchase_lines, full_refund`,
    ),
    refund: db.prepare(
      `INSERT INTO orders (site, order_id, customer, user_id, visitor_id, time, updated, currency, total, items,
                           refunded, full_refund, purchase_lines, refund_lines)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, 0, 1)
       ON CONFLICT (site, order_id) DO UPDATE SET
         updated = max(updated, excluded.updated), currency = coalesce(currency, excluded.currency),
         refunded = refunded + excluded.refunded, full_refund = max(full_refund, excluded.full_refund),
         refund_lines = refund_lines + 1
       RETURNING customer, user_id`,
    ),
    orderTotals: db.prepare('SELECT total, refunded FROM orders WHERE site = ? AND order_id = ?'),
    productRevenue: db.prepare(
      `SELECT coalesce(sum(amount), 0) AS amount FROM order_lines
       WHERE site = ? AND order_id = ? AND kind = 'purchase' AND product_id = ?`,
    ),
    customerTotals: db.prepare(
      `INSERT INTO customers (site, customer, user_id, first_seen, last_seen, orders, spent, refunded, currency, kept)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (site, customer) DO UPDATE SET
         user_id = coalesce(user_id, excluded.user_id),
         first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen),
         orders = orders + excluded.orders, spent = spent + excluded.spent, refunded = refunded + excluded.refunded,
         currency = coalesce(excluded.currency, currency), kept = kept + excluded.kept
       RETURNING kept`,
    ),
    activity: db.prepare(
      `INSERT OR IGNORE INTO activity (site, customer, time, event_id, type, name, product_id, price, quantity, order_id, revenue, path)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    trim: db.prepare(
      `DELETE FROM activity WHERE site = ? AND customer = ? AND (time, event_id) <= (
         SELECT time, event_id FROM activity WHERE site = ? AND customer = ?
         ORDER BY time DESC, event_id DESC LIMIT 1 OFFSET ?)`,
    ),
    setKept: db.prepare('UPDATE customers SET kept = ? WHERE site = ? AND customer = ?'),
    orderPage: db.prepare(
      `SELECT * FROM orders WHERE site = ? AND customer = ? ORDER BY time DESC, order_id DESC LIMIT ?`,
    ),
    orderPageAfter: db.prepare(
      `SELECT * FROM orders WHERE site = ? AND customer = ? AND (time, order_id) < (?, ?)
       ORDER BY time DESC, order_id DESC LIMIT ?`,
    ),
    // One query for a page's lines (json_each keeps it one prepared statement for any page size).
    lines: db.prepare(
      `SELECT * FROM order_lines WHERE site = ? AND order_id IN (SELECT value FROM json_each(?))
       ORDER BY order_id, time, event_id`,
    ),
    customer: db.prepare('SELECT * FROM customers WHERE site = ? AND customer = ?'),
    recent: db.prepare(
      'SELECT * FROM activity WHERE site = ? AND customer = ? ORDER BY time DESC, event_id DESC LIMIT ?',
    ),
    // The primary key's (site, customer, time) prefix: reads only the activity at or after `since`.
    boughtSince: db
      .prepare(
        `SELECT DISTINCT product_id FROM activity
         WHERE site = ? AND customer = ? AND time >= ? AND type = 'purchase' AND product_id IS NOT NULL`,
      )
      .pluck(),
  };
}

export type Stmts = ReturnType<typeof prepare>;

export interface OrderRow {
  site: string;
  order_id: string;
  customer: string;
  user_id: string | null;
  visitor_id: string | null;
  time: number;
  updated: number;
  currency: string | null;
  total: number;
  items: number;
  refunded: number;
  full_refund: number;
}

export interface LineRow {
  order_id: string;
  event_id: string;
  kind: 'purchase' | 'refund';
  time: number;
  product_id: string | null;
  brand: string | null;
  category_code: string | null;
  price: number | null;
  quantity: number | null;
  amount: number;
}

export const lineOf = (l: LineRow): OrderLine => ({
  eventId: l.event_id,
  kind: l.kind,
  time: l.time,
  productId: l.product_id,
  brand: l.brand,
  categoryCode: l.category_code,
  price: l.price,
  quantity: l.quantity,
  amount: l.amount,
});

export const orderOf = (r: OrderRow, lines: OrderLine[]): Order => ({
  orderId: r.order_id,
  customer: r.customer,
  userId: r.user_id,
  visitorId: r.visitor_id,
  time: r.time,
  updatedAt: r.updated,
  status: orderStatus({ total: r.total, refunded: r.refunded, fullRefund: r.full_refund === 1 }),
  currency: r.currency,
  total: r.total,
  refunded: r.full_refund ? Math.max(r.refunded, r.total) : r.refunded,
  items: r.items,
  lines,
});
