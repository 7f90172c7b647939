import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  type Activity,
  type CustomerSummary,
  customerOf,
  decodeCursor,
  encodeCursor,
  keepsActivity,
  type OrderEvent,
  type OrderLine,
  type OrderPage,
  orderIdOf,
  purchaseAmount,
  statedRefund,
} from './order-model.js';
import {
  type LineRow,
  lineOf,
  migrate,
  type OrderRow,
  orderOf,
  prepare,
  SCHEMA,
  type Stmts,
} from './order-schema.js';

/**
 * The order history: orders, their lines, per-customer totals and a bounded recent-activity
 * list, in `<dataDir>/orders.sqlite`. Every lookup is an index seek, so its cost does not grow
 * with the lake.
 *
 * Writes are idempotent by event id: a line or activity row already present is ignored and
 * nothing is summed twice, so the stream consumer, a lake backfill and a redelivery may overlap.
 * The stream position goes into the same transaction as the rows it produced (exactly once).
 */

export interface ApplyOptions {
  /** Write order lines for purchase and refund events (default true). */
  lines?: boolean;
  /** Write recent activity and first/last seen (default true). */
  activity?: boolean;
  /** The stream position these events bring the store to, saved in the same transaction. */
  position?: { topic: string; position: number };
}

export interface ApplyResult {
  lines: number;
  activity: number;
}

/** Per-customer changes of one transaction, written once per customer. */
interface CustomerDelta {
  userId: string | null;
  first: number;
  last: number;
  orders: number;
  spent: number;
  refunded: number;
  currency: string | null;
  /** Activity rows added. */
  activity: number;
}

export class OrderStore {
  private readonly db: Database.Database;
  private readonly s: Stmts;
  /** Most recent-activity rows shown per customer (up to a fifth more are stored between trims). */
  readonly activityCap: number;
  private readonly trimSlack: number;

  constructor(
    readonly file: string,
    opts: { activityCap?: number } = {},
  ) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // WAL + NORMAL never tears a commit; a power cut may lose the newest ones, and the stream
    // redelivers from the position saved with them.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    // Lookups read a few pages each from a file that may be gigabytes: mapping it saves a read
    // syscall and a copy per page (SQLite caps this at its compile-time limit).
    this.db.pragma('mmap_size = 8589934592');
    // Every event lands on a random page (its customer's activity); a larger cache and fewer,
    // larger checkpoints keep those pages from being read and written back once per batch.
    this.db.pragma('cache_size = -65536');
    this.db.pragma('wal_autocheckpoint = 10000');
    this.db.exec(SCHEMA);
    migrate(this.db);
    this.s = prepare(this.db);
    this.activityCap = opts.activityCap ?? 50;
    this.trimSlack = Math.max(1, Math.floor(this.activityCap / 5));
  }

  /** Applies events in one transaction (with the stream position, if given). */
  apply(events: Iterable<OrderEvent>, opts: ApplyOptions = {}): ApplyResult {
    return this.db.transaction(() => this.applyInTransaction(events, opts))();
  }

  private applyInTransaction(events: Iterable<OrderEvent>, opts: ApplyOptions): ApplyResult {
    const result: ApplyResult = { lines: 0, activity: 0 };
    const deltas = new Map<string, CustomerDelta>();
    const delta = (site: string, customer: string, userId: string | null, time: number) => {
      const key = `${site}\u0000${customer}`;
      let d = deltas.get(key);
      if (!d) {
        d = {
          userId,
          first: time,
          last: time,
          orders: 0,
          spent: 0,
          refunded: 0,
          currency: null,
          activity: 0,
        };
        deltas.set(key, d);
      }
      d.userId ??= userId;
      d.first = Math.min(d.first, time);
      d.last = Math.max(d.last, time);
      return d;
    };
    for (const e of events) {
      const customer = customerOf(e);
      if (opts.lines !== false && (e.event_type === 'purchase' || e.event_type === 'refund')) {
        if (this.applyLine(e, customer, delta)) result.lines++;
      }
      if (opts.activity !== false && customer && keepsActivity(e)) {
        const d = delta(e.site_id, customer, e.user_id ?? null, e.event_time);
        const added = this.s.activity.run(
          e.site_id,
          customer,
          e.event_time,
          e.event_id,
          e.event_type,
          e.event_name ?? null,
          e.product_id ?? null,
          e.price ?? null,
          e.quantity ?? null,
          e.order_id ?? null,
          e.revenue ?? null,
          e.path ?? null,
        ).changes;
        d.activity += added;
        result.activity += added;
      }
    }
    for (const [key, d] of deltas) {
      const [site, customer] = key.split('\u0000');
      const { kept } = this.s.customerTotals.get(
        site,
        customer,
        d.userId,
        d.first,
        d.last,
        d.orders,
        d.spent,
        d.refunded,
        d.currency,
        d.activity,
      ) as { kept: number };
      // Trimmed in steps of a fifth of the cap, not on every new event: reads take the newest `cap`.
      if (kept > this.activityCap + this.trimSlack) {
        this.s.trim.run(site, customer, site, customer, this.activityCap);
        this.s.setKept.run(this.activityCap, site, customer);
      }
    }
    if (opts.position) this.s.position.run(opts.position.topic, opts.position.position);
    return result;
  }

  /** One purchase or refund line; false when it was already there (or is not a line). */
  private applyLine(
    e: OrderEvent,
    customer: string | null,
    delta: (site: string, customer: string, userId: string | null, time: number) => CustomerDelta,
  ): boolean {
    const orderId = orderIdOf(e);
    if (!orderId || !customer) return false;
    const site = e.site_id;
    const refund = e.event_type === 'refund';
    let amount = refund ? statedRefund(e) : purchaseAmount(e);
    let full = false;
    if (refund && amount === null) {
      // No amount given: the product's purchased lines, or else whatever is left of the order.
      if (e.product_id) {
        amount = (this.s.productRevenue.get(site, orderId, e.product_id) as { amount: number }).amount;
      } else {
        // Marked as a full refund, so purchase lines that arrive after it count as refunded too.
        const o = this.s.orderTotals.get(site, orderId) as { total: number; refunded: number } | undefined;
        amount = Math.max(0, (o?.total ?? 0) - (o?.refunded ?? 0));
        full = true;
      }
    }
    const value = amount ?? 0;
    const inserted = this.s.line.run(
      site,
      orderId,
      e.event_id,
      refund ? 'refund' : 'purchase',
      e.event_time,
      e.product_id ?? null,
      e.brand ?? null,
      e.category_code ?? null,
      e.price ?? null,
      e.quantity ?? null,
      value,
    ).changes;
    if (!inserted) return false;
    const userId = e.user_id ?? null;
    const visitorId = e.visitor_id ?? null;
    const currency = e.currency ?? null;
    if (refund) {
      const row = this.s.refund.get(
        site,
        orderId,
        customer,
        userId,
        visitorId,
        e.event_time,
        e.event_time,
        currency,
        value,
        full ? 1 : 0,
      ) as { customer: string; user_id: string | null };
      delta(site, row.customer, row.user_id, e.event_time).refunded += value;
    } else {
      const row = this.s.purchase.get(
        site,
        orderId,
        customer,
        userId,
        visitorId,
        e.event_time,
        e.event_time,
        currency,
        value,
        e.quantity ?? 1,
      ) as { customer: string; user_id: string | null; purchase_lines: number; full_refund: number };
      const d = delta(site, row.customer, row.user_id, e.event_time);
      d.spent += value;
      if (row.purchase_lines === 1) d.orders++;
      if (row.full_refund) d.refunded += value;
      d.currency = currency ?? d.currency;
    }
    return true;
  }

  /** Widens customers' first seen (a backfill that loaded only their newest events knows the first). */
  seen(rows: { site: string; customer: string; userId: string | null; first: number }[]): void {
    this.db.transaction(() => {
      for (const r of rows)
        this.s.customerTotals.get(r.site, r.customer, r.userId, r.first, r.first, 0, 0, 0, null, 0);
    })();
  }

  /** The last stream position applied for a topic (0 = none). */
  position(topic: string): number {
    const row = this.db.prepare('SELECT position FROM positions WHERE topic = ?').get(topic) as
      | { position: number }
      | undefined;
    return row?.position ?? 0;
  }

  /** A marker kept across restarts, e.g. that the initial lake backfill finished. */
  meta(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM store_meta WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        'INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run(key, value);
  }

  /** A customer's orders, newest first; `cursor` is the previous page's nextCursor. */
  orders(site: string, customer: string, opts: { limit: number; cursor?: string | null }): OrderPage | null {
    const after = opts.cursor ? decodeCursor(opts.cursor) : null;
    if (opts.cursor && !after) return null;
    const rows = (
      after
        ? this.s.orderPageAfter.all(site, customer, after.time, after.orderId, opts.limit + 1)
        : this.s.orderPage.all(site, customer, opts.limit + 1)
    ) as OrderRow[];
    const more = rows.length > opts.limit;
    const page = more ? rows.slice(0, opts.limit) : rows;
    const last = page.at(-1);
    const lines = new Map<string, OrderLine[]>();
    if (page.length > 0) {
      for (const l of this.s.lines.all(site, JSON.stringify(page.map((r) => r.order_id))) as LineRow[]) {
        const list = lines.get(l.order_id) ?? [];
        if (list.length === 0) lines.set(l.order_id, list);
        list.push(lineOf(l));
      }
    }
    return {
      orders: page.map((r) => orderOf(r, lines.get(r.order_id) ?? [])),
      nextCursor: more && last ? encodeCursor(last.time, last.order_id) : null,
    };
  }

  /** First and last seen, order totals and recent activity; null if the customer was never seen. */
  /** Products the customer's kept activity shows bought at or after `since` (ms). */
  productsBoughtSince(site: string, customer: string, since: number): string[] {
    return this.s.boughtSince.all(site, customer, since) as string[];
  }

  customer(site: string, customer: string, activityLimit = this.activityCap): CustomerSummary | null {
    const c = this.s.customer.get(site, customer) as
      | {
          user_id: string | null;
          first_seen: number;
          last_seen: number;
          orders: number;
          spent: number;
          refunded: number;
          currency: string | null;
        }
      | undefined;
    if (!c) return null;
    const activity = (
      this.s.recent.all(site, customer, activityLimit) as {
        event_id: string;
        time: number;
        type: string;
        name: string | null;
        product_id: string | null;
        price: number | null;
        quantity: number | null;
        order_id: string | null;
        revenue: number | null;
        path: string | null;
      }[]
    ).map(
      (a): Activity => ({
        eventId: a.event_id,
        time: a.time,
        type: a.type,
        name: a.name,
        productId: a.product_id,
        price: a.price,
        quantity: a.quantity,
        orderId: a.order_id,
        revenue: a.revenue,
        path: a.path,
      }),
    );
    return {
      site,
      customer,
      kind: c.user_id === null ? 'visitor' : 'user',
      firstSeen: c.first_seen,
      lastSeen: c.last_seen,
      orders: c.orders,
      spent: c.spent,
      refunded: c.refunded,
      net: c.spent - c.refunded,
      currency: c.currency,
      activity,
    };
  }

  /** Row counts, for status output and benchmarks. */
  counts(): { orders: number; lines: number; customers: number; activity: number } {
    const n = (t: string) => (this.db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return {
      orders: n('orders'),
      lines: n('order_lines'),
      customers: n('customers'),
      activity: n('activity'),
    };
  }

  /** The underlying connection, for bulk loads in benchmarks and tests. */
  get database(): Database.Database {
    return this.db;
  }

  close(): void {
    this.db.close();
  }
}
