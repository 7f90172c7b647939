import { deserialize, serialize } from 'node:v8';
import type { CanonicalEvent } from '../events/model.js';
import { HyperLogLog } from './hyperloglog.js';
import { SpaceSaving, type SpaceSavingState, type TopItem } from './space-saving.js';

/**
 * What one window knows: the live metrics of the AWS "Real-Time Web Analytics" solution plus
 * the store's own. Every field merges (sums, HLL unions, Space-Saving merges), so an hour or
 * the last five minutes is the merge of its minutes.
 */

export const TOP_LISTS = [
  'pages', // path of page_view events
  'products', // product_id of view events
  'categories', // category_code of view events
  'brands', // brand of view events
  'referrers', // external referrer host of page_view events
  'utmSources',
  'utmCampaigns',
  'browsers', // browser / os / device_type of every event
  'os',
  'devices',
] as const;
export type TopList = (typeof TOP_LISTS)[number];

export const FUNNEL_STEPS = ['view', 'cart', 'purchase'] as const;
export type FunnelStep = (typeof FUNNEL_STEPS)[number];

export interface AggregateOptions {
  /** Counters per top list; Space-Saving finds every item above 1/topK of the window's events. */
  topK: number;
  /** Bot-flagged events are kept out of business metrics unless this is set. */
  includeBots: boolean;
}

export const DEFAULT_AGGREGATE_OPTIONS: AggregateOptions = { topK: 100, includeBots: false };

/** Serialisable state (what the checkpoint stores, through v8.serialize). */
export interface AggregateState {
  v: 1;
  events: number;
  byType: Record<string, number>;
  botEvents: number;
  botByType: Record<string, number>;
  visitors: Uint8Array;
  funnel: Record<FunnelStep, Uint8Array>;
  orders: number;
  revenueCents: number;
  orderIds: string[] | null;
  top: Record<TopList, SpaceSavingState>;
}

/** A window's numbers for a chart point. */
export interface WindowCounts {
  events: number;
  byType: Record<string, number>;
  visitors: number;
  orders: number;
  revenue: number;
  aov: number | null;
  botEvents: number;
}

/** A window's (or a range's) full picture. */
export interface WindowSummary extends WindowCounts {
  funnel: Record<FunnelStep, number>;
  bots: { events: number; share: number; byType: Record<string, number> };
  top: Record<TopList, TopItem[]>;
}

const hostOf = (url: string | null): string | null => {
  const m = url ? /^[a-z][a-z0-9+.-]*:\/\/([^/:?#]+)/i.exec(url) : null;
  return m ? m[1].toLowerCase().replace(/^www\./, '') : null;
};

const bump = (counts: Record<string, number>, key: string, n = 1) => {
  counts[key] = (counts[key] ?? 0) + n;
};

export class WindowAggregate {
  events = 0;
  byType: Record<string, number> = {};
  botEvents = 0;
  botByType: Record<string, number> = {};
  visitors = new HyperLogLog();
  funnel: Record<FunnelStep, HyperLogLog> = {
    view: new HyperLogLog(),
    cart: new HyperLogLog(),
    purchase: new HyperLogLog(),
  };
  orders = 0;
  /** Revenue in hundredths, summed as integers so totals do not depend on the order of addition. */
  revenueCents = 0;
  /** Order ids seen while the window is open (an order may span several purchase rows); dropped on close. */
  private orderIds: Set<string> | null = new Set();
  top: Record<TopList, SpaceSaving>;

  constructor(private readonly opts: AggregateOptions = DEFAULT_AGGREGATE_OPTIONS) {
    this.top = Object.fromEntries(TOP_LISTS.map((l) => [l, new SpaceSaving(opts.topK)])) as Record<
      TopList,
      SpaceSaving
    >;
  }

  /** `visitorKey` is `hllKey(e.visitor_id)`, hashed once for the minute and the hour. */
  add(e: CanonicalEvent, visitorKey: number): void {
    if (e.is_bot && !this.opts.includeBots) {
      this.botEvents++;
      bump(this.botByType, e.event_type);
      return;
    }
    if (e.is_bot) this.botEvents++;
    this.events++;
    bump(this.byType, e.event_type);
    this.visitors.addKey(visitorKey);
    const top = this.top;
    switch (e.event_type) {
      case 'page_view': {
        if (e.path) top.pages.add(e.path);
        // Internal navigation has the shop itself as referrer: only other hosts are sources.
        if (e.referrer_host && e.referrer_host !== hostOf(e.url)) top.referrers.add(e.referrer_host);
        if (e.utm_source) top.utmSources.add(e.utm_source);
        if (e.utm_campaign) top.utmCampaigns.add(e.utm_campaign);
        break;
      }
      case 'view': {
        this.funnel.view.addKey(visitorKey);
        if (e.product_id) top.products.add(e.product_id);
        if (e.category_code) top.categories.add(e.category_code);
        if (e.brand) top.brands.add(e.brand);
        break;
      }
      case 'cart':
        this.funnel.cart.addKey(visitorKey);
        break;
      case 'purchase': {
        this.funnel.purchase.addKey(visitorKey);
        if (e.revenue != null && Number.isFinite(e.revenue)) this.revenueCents += Math.round(e.revenue * 100);
        if (e.order_id == null)
          this.orders++; // stream records omit null fields
        else if (!this.orderIds?.has(e.order_id)) {
          this.orderIds?.add(e.order_id);
          this.orders++;
        }
        break;
      }
    }
    if (e.browser) top.browsers.add(e.browser);
    if (e.os) top.os.add(e.os);
    if (e.device_type) top.devices.add(e.device_type);
  }

  /** The window closed: no more events can arrive, so the order-id set is no longer needed. */
  seal(): void {
    this.orderIds = null;
  }

  /**
   * Folds another window in. Orders are summed: one order whose rows fall in two windows counts
   * in both, a rare case (rows of one order share a time) accepted to keep closed windows small.
   */
  merge(other: WindowAggregate): this {
    this.events += other.events;
    this.botEvents += other.botEvents;
    for (const [t, n] of Object.entries(other.byType)) bump(this.byType, t, n);
    for (const [t, n] of Object.entries(other.botByType)) bump(this.botByType, t, n);
    this.visitors.merge(other.visitors);
    for (const step of FUNNEL_STEPS) this.funnel[step].merge(other.funnel[step]);
    this.orders += other.orders;
    this.revenueCents += other.revenueCents;
    this.orderIds = null;
    for (const list of TOP_LISTS) this.top[list] = SpaceSaving.merge(this.top[list], other.top[list]);
    return this;
  }

  counts(): WindowCounts {
    const revenue = this.revenueCents / 100;
    return {
      events: this.events,
      byType: { ...this.byType },
      visitors: this.visitors.count(),
      orders: this.orders,
      revenue,
      aov: this.orders > 0 ? Math.round(this.revenueCents / this.orders) / 100 : null,
      botEvents: this.botEvents,
    };
  }

  summary(topN = 10): WindowSummary {
    const all = this.opts.includeBots ? this.events : this.events + this.botEvents;
    return {
      ...this.counts(),
      funnel: {
        view: this.funnel.view.count(),
        cart: this.funnel.cart.count(),
        purchase: this.funnel.purchase.count(),
      },
      bots: {
        events: this.botEvents,
        share: all > 0 ? this.botEvents / all : 0,
        byType: { ...this.botByType },
      },
      top: Object.fromEntries(TOP_LISTS.map((l) => [l, this.top[l].top(topN)])) as Record<TopList, TopItem[]>,
    };
  }

  toState(): AggregateState {
    return {
      v: 1,
      events: this.events,
      byType: this.byType,
      botEvents: this.botEvents,
      botByType: this.botByType,
      visitors: this.visitors.encode(),
      funnel: {
        view: this.funnel.view.encode(),
        cart: this.funnel.cart.encode(),
        purchase: this.funnel.purchase.encode(),
      },
      orders: this.orders,
      revenueCents: this.revenueCents,
      orderIds: this.orderIds ? [...this.orderIds] : null,
      top: Object.fromEntries(TOP_LISTS.map((l) => [l, this.top[l].toState()])) as Record<
        TopList,
        SpaceSavingState
      >,
    };
  }

  static fromState(s: AggregateState, opts: AggregateOptions = DEFAULT_AGGREGATE_OPTIONS): WindowAggregate {
    if (s.v !== 1) throw new Error(`unknown window state version ${s.v}`);
    const agg = new WindowAggregate(opts);
    agg.events = s.events;
    agg.byType = { ...s.byType };
    agg.botEvents = s.botEvents;
    agg.botByType = { ...s.botByType };
    agg.visitors = HyperLogLog.decode(s.visitors);
    for (const step of FUNNEL_STEPS) agg.funnel[step] = HyperLogLog.decode(s.funnel[step]);
    agg.orders = s.orders;
    agg.revenueCents = s.revenueCents;
    agg.orderIds = s.orderIds ? new Set(s.orderIds) : null;
    for (const list of TOP_LISTS) agg.top[list] = SpaceSaving.fromState(s.top[list]);
    return agg;
  }

  /** Compact bytes: v8's structured serialisation stores the sketches' byte arrays as they are. */
  encode(): Buffer {
    return serialize(this.toState());
  }

  static decode(bytes: Uint8Array, opts?: AggregateOptions): WindowAggregate {
    return WindowAggregate.fromState(deserialize(bytes) as AggregateState, opts);
  }
}

/** One line of the live feed: enough to show, nothing personal beyond what the dashboard shows anyway. */
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

export const feedItem = (e: CanonicalEvent, late: boolean): FeedItem => ({
  event_id: e.event_id,
  event_time: e.event_time,
  received_at: e.received_at,
  event_type: e.event_type,
  event_name: e.event_name,
  path: e.path,
  product_id: e.product_id,
  brand: e.brand,
  revenue: e.revenue,
  visitor_id: e.visitor_id,
  referrer_host: e.referrer_host,
  browser: e.browser,
  os: e.os,
  device_type: e.device_type,
  is_bot: e.is_bot,
  late,
});

/** Ring buffer of a site's most recent events, in arrival order. */
export class RecentFeed {
  private items: FeedItem[] = [];
  private next = 0;

  constructor(readonly capacity = 50) {}

  push(item: FeedItem): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first. */
  list(limit = this.capacity): FeedItem[] {
    const ordered =
      this.items.length < this.capacity
        ? this.items.slice()
        : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
    return ordered.reverse().slice(0, limit);
  }

  static from(items: FeedItem[], capacity: number): RecentFeed {
    const feed = new RecentFeed(capacity);
    for (const item of items.slice(0, capacity).reverse()) feed.push(item);
    return feed;
  }
}
