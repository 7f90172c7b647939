import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { OrderStore } from '../src/orders/order-store.js';
import { BENCH_TMP } from './lib.js';

/**
 * An orders.sqlite shaped like the order history of a store with `events` events, written
 * straight into the store's tables (sending them through the stream would take hours here).
 *
 * Shape, from the public REES46 October 2019 file (42.4 M events, 3.0 M users, 1.7 % purchases)
 * scaled to `events`: 1 user per 13.3 events; 1.5 % of events are purchases, spread over 7 % of
 * users (≈ 2.1 purchases per buyer, geometric, so a few buy a lot); REES46 has no order ids, so
 * each purchase is a one-line order (as `storepulse orders rebuild` files them). Events per user
 * are log-normal (σ = 1.2, mean 13.3); recent activity keeps min(events, 50) rows per user, as the
 * store does. Every user gets a customers row. Times spread over 31 days.
 */

export interface FillShape {
  events: number;
  users: number;
  buyers: number;
  purchases: number;
  activityCap: number;
}

export const shapeFor = (events: number): FillShape => ({
  events,
  users: Math.round(events / 13.3),
  buyers: Math.round(events / 13.3 / 14.3),
  purchases: Math.round(events * 0.015),
  activityCap: 50,
});

export interface Filled {
  file: string;
  shape: FillShape;
  counts: { orders: number; lines: number; customers: number; activity: number };
  /** Ids of users with at least one order, to look up. */
  buyers: string[];
  reused: boolean;
  fillSeconds: number;
}

/** Deterministic pseudo-random numbers (mulberry32), so every fill is the same store. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SITE = 'default';
const T0 = Date.parse('2019-10-01T00:00:00Z');
const SPAN = 31 * 86_400_000;
const VERSION = 'orders-fill-v1';
const TYPES = ['view', 'view', 'view', 'view', 'view', 'view', 'view', 'view', 'view', 'cart'];
/** User ids like REES46's: nine digits, so text order is numeric order (and inserts append). */
const userId = (i: number) => String(500_000_000 + i);
const eventId = (n: number) => `0189a000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

/** A cached fill for `shape`, or a new one (minutes at 40 M events; cached in $TMPDIR/storepulse-bench). */
export function fillOrders(shape: FillShape, log: (m: string) => void): Filled {
  const dir = join(BENCH_TMP, `${VERSION}-${shape.events}`);
  const file = join(dir, 'orders.sqlite');
  const key = JSON.stringify(shape);
  const buyers = buyerIds(shape);
  if (existsSync(file)) {
    const db = new Database(file, { readonly: true });
    const row = db.prepare("SELECT value FROM store_meta WHERE key = 'bench_fill'").get() as
      | { value: string }
      | undefined;
    db.close();
    if (row?.value === key) {
      const store = new OrderStore(file);
      const counts = store.counts();
      store.close();
      return { file, shape, counts, buyers, reused: true, fillSeconds: 0 };
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const tmp = join(dir, 'filling.sqlite');
  new OrderStore(tmp).close(); // the store's own schema
  const db = new Database(tmp);
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -1000000');
  const ins = {
    activity: db.prepare(
      `INSERT INTO activity (site, customer, time, event_id, type, name, product_id, price, quantity, order_id, revenue, path)
       VALUES ('${SITE}', ?, ?, ?, ?, NULL, ?, ?, ?, NULL, ?, NULL)`,
    ),
    customer: db.prepare(
      `INSERT INTO customers (site, customer, user_id, first_seen, last_seen, orders, spent, refunded, currency, kept)
       VALUES ('${SITE}', ?, ?, ?, ?, ?, ?, 0, NULL, ?)`,
    ),
    order: db.prepare(
      `INSERT INTO orders (site, order_id, customer, user_id, visitor_id, time, updated, currency, total, items,
                           refunded, full_refund, purchase_lines, refund_lines)
       VALUES ('${SITE}', ?, ?, ?, ?, ?, ?, NULL, ?, 1, 0, 0, 1, 0)`,
    ),
    line: db.prepare(
      `INSERT INTO order_lines (site, order_id, event_id, kind, time, product_id, brand, category_code, price, quantity, amount)
       VALUES ('${SITE}', ?, ?, 'purchase', ?, ?, NULL, NULL, ?, 1, ?)`,
    ),
  };
  const r = rng(7);
  const buyerSet = new Map<number, number>(); // user index → purchases
  {
    const rb = rng(11);
    const idx = buyerIndexes(shape);
    let left = shape.purchases - idx.length;
    for (const i of idx) buyerSet.set(i, 1);
    // Extra purchases, geometric-ish: each draw goes to a buyer picked with a skew towards a few.
    while (left-- > 0) {
      const i = idx[Math.floor(rb() ** 2 * idx.length)];
      buyerSet.set(i, (buyerSet.get(i) ?? 0) + 1);
    }
  }
  const mu = Math.log(shape.events / shape.users) - 1.2 ** 2 / 2;
  let n = 0;
  let rows = 0;
  const begin = db.prepare('BEGIN');
  const commit = db.prepare('COMMIT');
  begin.run();
  for (let u = 0; u < shape.users; u++) {
    const id = userId(u);
    // Box-Muller normal → log-normal events per user (at least one).
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    const events = Math.max(1, Math.round(Math.exp(mu + 1.2 * z)));
    const purchases = buyerSet.get(u) ?? 0;
    const first = T0 + Math.floor(r() * SPAN * 0.9);
    const span = Math.floor(r() * (T0 + SPAN - first));
    const kept = Math.min(events, shape.activityCap);
    // Newest `kept` events, evenly over the user's span, ascending (the key's order).
    let spent = 0;
    for (let k = 0; k < kept; k++) {
      const time = first + Math.floor((span * (events - kept + k)) / Math.max(1, events - 1));
      const buys = k >= kept - purchases; // a buyer's purchases are among their newest events
      const price = Math.round(r() * 50_000) / 100;
      ins.activity.run(
        id,
        time,
        eventId(n++),
        buys ? 'purchase' : TYPES[k % TYPES.length],
        String(1_000_000 + ((u * 31 + k) % 90_000)),
        price,
        buys ? 1 : null,
        buys ? price : null,
      );
      rows++;
    }
    for (let p = 0; p < purchases; p++) {
      const time = first + Math.floor((span * (p + 1)) / (purchases + 1));
      const price = Math.round(r() * 50_000) / 100;
      const order = eventId(1e12 + n);
      ins.order.run(order, id, id, id, time, time, price);
      ins.line.run(order, eventId(n++), time, String(1_000_000 + ((u * 17 + p) % 90_000)), price, price);
      spent += price;
      rows += 2;
    }
    ins.customer.run(id, id, first, first + span, purchases, spent, kept);
    rows++;
    if (rows > 1_000_000) {
      commit.run();
      begin.run();
      rows = 0;
    }
    if (u % 500_000 === 0 && u > 0)
      log(`    filled ${u.toLocaleString('en-US')} of ${shape.users.toLocaleString('en-US')} users`);
  }
  commit.run();
  db.prepare(
    "INSERT INTO store_meta (key, value) VALUES ('bench_fill', ?), ('lake_backfilled_at', 'bench')",
  ).run(key);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  renameSync(tmp, file);
  for (const ext of ['-wal', '-shm']) rmSync(`${tmp}${ext}`, { force: true });
  const store = new OrderStore(file);
  const counts = store.counts();
  store.close();
  return { file, shape, counts, buyers, reused: false, fillSeconds: (performance.now() - started) / 1000 };
}

/** Which users buy: a deterministic 1 in users/buyers of them. */
function buyerIndexes(shape: FillShape): number[] {
  const r = rng(3);
  const out: number[] = [];
  for (let u = 0; u < shape.users; u++) if (r() < shape.buyers / shape.users) out.push(u);
  return out;
}

const buyerIds = (shape: FillShape) => buyerIndexes(shape).map(userId);
