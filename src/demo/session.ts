import type { WireEvent } from '../events/wire.js';
import { type Catalogue, type Product, pickProduct } from './catalogue.js';
import { activeIncident, type DemoIncident, type IncidentSegment, ORDER_DROP_SURVIVAL } from './incidents.js';
import { geometric, logNormal, pick, pickWeighted, type Rng, randInt, uuid } from './prng.js';
import {
  anonymousVisitorId,
  botClient,
  pickReferral,
  pickVisitorIndex,
  type Referral,
  SCRAPER_FAMILIES,
  type Visitor,
  visitorFor,
} from './visitors.js';

/**
 * One visit to the demo store, as the events a tracker would send: a shopper walking the
 * funnel (landing → product views → cart → checkout → purchase, leaking at every step),
 * a crawler or scraper sweeping product pages, or one request of a flood. Events are handed
 * to `env.emit` with their time in ms; the generator puts them in time order.
 */

/**
 * One simulated request: the event plus the client it came from, for User-Agent and
 * X-Forwarded-For. Fields the event does not have are present as `undefined` (JSON omits them).
 */
export interface DemoItem {
  event: WireEvent;
  ip: string;
  userAgent: string;
}

export interface SessionEnv {
  seed: number;
  catalogue: Catalogue;
  incidents: readonly DemoIncident[];
  siteUrl: string;
  poolSize: number; // visitor pool slots (see pickVisitorIndex)
  /** Multiplies each visit's chance to add to cart (1 = the demo's usual ~2.7% of sessions buying). */
  conversion: number;
  /** Only these event types are emitted (the rest of the walk still happens, so the kept events are unchanged). */
  types?: ReadonlySet<string>;
  emit: (planned: PlannedEvent) => void;
}

/** Fields some events carry besides the product: set at emit time, copied into the WireEvent. */
export interface Extra {
  quantity?: number;
  order_id?: string;
  revenue?: number;
  currency?: string;
  props?: Record<string, unknown>;
}

/**
 * An event decided but not yet due. Sessions plan their whole future at once, so many of these
 * wait in memory; they stay small (references only) and become WireEvents when released.
 */
export interface PlannedEvent {
  t: number; // epoch ms, integer
  visit: Visit;
  seq: number;
  type: string;
  product: Product | undefined;
  extra: Extra | undefined;
  path: string | null;
  previousPath: string | null; // null on the landing page: the referrer is external then
}

export const CURRENCY = 'USD';
// Funnel probabilities, tuned so ~9% of shopper sessions cart, ~30% of those buy (≈2.7% overall).
const BOUNCE = 0.3;
const CART = 0.13; // per non-bounced session, times the visitor's propensity
const SECOND_ITEM = 0.25;
const REMOVE = 0.2;
const CHECKOUT = 0.5;
const PAY = 0.7;
const COMPLEMENT_VIEW = 0.4;
const COMPLEMENT_CART = 0.5;
/** Payments that fail once (card declined, 3-D Secure timeout) and go through on a retry. */
const TRANSIENT_ERROR = 0.005;
/** During an error spike, customers whose payment failed who succeed on retry. */
const RETRY_SUCCESS = 0.75;
/** Share of shoppers in an order_change segment (by user-agent weight, see visitors.ts). */
const SEGMENT_SHARE: Record<IncidentSegment['who'], number> = {
  all: 1,
  ios: 29 / 93,
  mobile: 54 / 93,
  campaign: 1,
};

/** The tracker state of one visit: who, and which page the next event happens on. */
export class Visit {
  private seq = 0;
  private path: string | null = null; // URLs are only built for WireEvents, not for the CSV fast path
  private previousPath: string | null = null;
  private rees46Cache: string | undefined;
  /** Set on visits an incident brings (a campaign's visitors, bots of a wave): every event is labelled. */
  label: string | undefined;

  constructor(
    readonly env: SessionEnv,
    readonly sessionId: string,
    readonly visitorId: string,
    readonly userId: string | null,
    readonly ip: string,
    readonly userAgent: string,
    readonly externalReferrer: string | null,
  ) {}

  /** The REES46 `user_id,user_session` columns (see rees46Row), joined once per visit for the CSV fast path. */
  get rees46Columns(): string {
    this.rees46Cache ??= `${this.userId ?? this.visitorId},${this.sessionId}`;
    return this.rees46Cache;
  }

  /** Navigates: the previous page becomes the referrer (the landing page keeps the external one). */
  page(path: string): void {
    this.previousPath = this.path;
    this.path = path;
  }

  emit(t: number, type: string, product?: Product, extra?: Extra): void {
    const seq = this.seq++; // counted even when filtered out, so event ids do not depend on the filter
    if (this.env.types !== undefined && !this.env.types.has(type)) return;
    const { path, previousPath } = this;
    const labelled =
      this.label === undefined ? extra : { ...extra, props: { ...extra?.props, demo_incident: this.label } };
    this.env.emit({ t: Math.floor(t), visit: this, seq, type, product, extra: labelled, path, previousPath });
  }
}

/**
 * The WireEvent of a released event. One literal with every field (undefined = absent, and
 * JSON drops it): a single allocation and one hidden class, which matters at a million events
 * a second.
 */
export function toDemoItem(p: PlannedEvent, time: string | number): DemoItem {
  const { visit, product, extra } = p;
  const { siteUrl } = visit.env;
  const event: WireEvent = {
    event_id: `${visit.sessionId}-${p.seq}`,
    type: p.type,
    time,
    user_id: visit.userId ?? undefined,
    session_id: visit.sessionId,
    visitor_id: visit.visitorId,
    product_id: product?.productId,
    category_id: product?.categoryId,
    category_code: product?.categoryCode,
    brand: product?.brand,
    price: product?.price,
    quantity: extra?.quantity,
    currency: extra?.currency ?? (product === undefined ? undefined : CURRENCY),
    order_id: extra?.order_id,
    revenue: extra?.revenue,
    url: p.path === null ? undefined : siteUrl + p.path,
    referrer: p.previousPath === null ? (visit.externalReferrer ?? undefined) : siteUrl + p.previousPath,
    props: extra?.props,
  };
  return { event, ip: visit.ip, userAgent: visit.userAgent };
}

/** Milliseconds a person spends before the next step: skewed, capped so a session stays a session. */
const dwell = (rng: Rng, medianSec: number): number =>
  Math.min(900_000, logNormal(rng, medianSec * 1000, 0.8));

function productFor(rng: Rng, catalogue: Catalogue, visitor: Visitor): Product {
  if (rng() < 0.75) {
    const category = pick(rng, visitor.affinity);
    return pickProduct(
      rng,
      category,
      category === visitor.affinity[0] && rng() < 0.5 ? visitor.brand : undefined,
    );
  }
  return pickProduct(rng, pickWeighted(rng, catalogue.categories, catalogue.categoryCumulative));
}

/** A campaign's visitors (an order surge): where they come from, and the incident that brings them. */
export interface Campaign {
  source: string;
  label: string;
}

export function shopperSession(rng: Rng, env: SessionEnv, start: number, campaign?: Campaign): void {
  const { catalogue } = env;
  const visitor = visitorFor(env.seed, pickVisitorIndex(rng, env.poolSize));
  const loggedIn = visitor.accountId !== null && rng() < 0.7;
  const referral: Referral = campaign
    ? { referrer: null, query: `?utm_source=${campaign.source}&utm_medium=social&utm_campaign=flash_sale` }
    : pickReferral(rng);
  const visit = new Visit(
    env,
    uuid(rng),
    visitor.visitorId,
    loggedIn ? visitor.accountId : null,
    visitor.ip,
    visitor.userAgent,
    referral.referrer,
  );
  visit.label = campaign?.label;
  let t = start;

  // Landing: campaigns and search results point at products and categories, direct visits at the home page.
  const landing = rng();
  if (landing < 0.25) {
    const product = productFor(rng, catalogue, visitor);
    visit.page(product.path + referral.query);
    visit.emit(t, 'view', product); // a product page's view is its page view, as in REES46
  } else {
    visit.page((landing < 0.55 ? visitor.affinity[0].path : '/') + referral.query);
    visit.emit(t, 'page_view');
  }
  if (rng() < BOUNCE) return;

  const views = Math.min(30, 1 + geometric(rng, 0.3));
  // Which product views (by position) end in "add to cart"; -1 = none.
  let cartAt = -1;
  let cartAlsoAt = -1;
  if (rng() < CART * visitor.propensity * env.conversion) {
    cartAt = rng() < 0.5 ? views - 1 : randInt(rng, 0, views - 1);
    if (rng() < SECOND_ITEM) cartAlsoAt = randInt(rng, 0, views - 1);
  }
  if (rng() < 0.1) {
    const query =
      visitor.brand ?? visitor.affinity[0].code.slice(visitor.affinity[0].code.lastIndexOf('.') + 1);
    t += dwell(rng, 8);
    visit.page(`/search?q=${encodeURIComponent(query)}`);
    visit.emit(t, 'search', undefined, { props: { query } });
  }

  const cart: CartLine[] = [];
  for (let i = 0; i < views; i++) {
    if (rng() < 0.3) {
      t += dwell(rng, 10);
      visit.page(pick(rng, visitor.affinity).path);
      visit.emit(t, 'page_view');
    }
    t += dwell(rng, 25);
    const product = productFor(rng, catalogue, visitor);
    visit.page(product.path);
    visit.emit(t, 'view', product);
    if ((i !== cartAt && i !== cartAlsoAt) || cart.some((c) => c.product === product)) continue;
    t = addToCart(rng, visit, cart, product, t);
    const complement = catalogue.complements.get(product.index);
    if (complement !== undefined && rng() < COMPLEMENT_VIEW) {
      const extra = catalogue.products[complement];
      t += dwell(rng, 15);
      visit.page(extra.path);
      visit.emit(t, 'view', extra);
      if (rng() < COMPLEMENT_CART) t = addToCart(rng, visit, cart, extra, t);
    }
  }
  if (cart.length === 0) return;

  t += dwell(rng, 20);
  visit.page('/cart');
  visit.emit(t, 'page_view');
  if (rng() < REMOVE) {
    const removed = cart.pop()!;
    t += dwell(rng, 6);
    visit.emit(t, 'remove_from_cart', removed.product, { quantity: removed.quantity });
  }
  if (cart.length === 0 || rng() >= CHECKOUT) return;

  const total = round2(cart.reduce((sum, c) => sum + c.product.price * c.quantity, 0));
  const checkoutAt = t + dwell(rng, 30);
  const paid = rng() < PAY; // else abandoned at the payment form
  t = checkoutAt + dwell(rng, 90);
  const outcome = paid ? payment(rng, env, visit, t) : null;
  const failed = outcome?.kind === 'failed' ? outcome.incident : undefined;
  visit.page('/checkout');
  visit.emit(checkoutAt, 'checkout', undefined, {
    revenue: total,
    currency: CURRENCY,
    props: failed ? { demo_incident: failed.id } : undefined,
  });
  if (!outcome) return;
  if (outcome.kind === 'failed') {
    if (outcome.visible)
      visit.emit(t, 'checkout_error', undefined, {
        props: { demo_incident: outcome.incident.id, error: 'payment provider timeout' },
      });
    return;
  }
  if (outcome.kind === 'retried') {
    const label = outcome.incident ? { demo_incident: outcome.incident.id } : {};
    visit.emit(t, 'checkout_error', undefined, { props: { ...label, error: outcome.error } });
    if (!outcome.success) return;
    t += dwell(rng, 20);
  }
  const orderId = String(randInt(rng, 10_000_000, 99_999_999));
  visit.page('/checkout/complete');
  const label =
    outcome.kind === 'retried' && outcome.incident ? { demo_incident: outcome.incident.id } : undefined;
  for (const { product, quantity } of cart) {
    // One row per product, as REES46: revenue is the line total, so summing rows gives order revenue.
    visit.emit(t, 'purchase', product, {
      quantity,
      order_id: orderId,
      revenue: round2(product.price * quantity),
      props: label,
    });
  }
}

type PaymentOutcome =
  | { kind: 'ok' }
  | { kind: 'failed'; incident: DemoIncident; visible: boolean }
  | { kind: 'retried'; incident: DemoIncident | undefined; error: string; success: boolean };

/**
 * What happens to a payment at `t`: an outage or a broken segment makes it fail (with a
 * payment error or silently), an error spike or a transient decline makes it fail once and
 * mostly succeed on retry. Random numbers are drawn only when an incident could apply, plus one
 * for the rare transient decline.
 */
function payment(rng: Rng, env: SessionEnv, visit: Visit, t: number): PaymentOutcome {
  const outage = activeIncident(env.incidents, 'order_drop', t);
  if (outage && rng() >= ORDER_DROP_SURVIVAL) return { kind: 'failed', incident: outage, visible: true };
  const change = activeIncident(env.incidents, 'order_change', t);
  if (
    change &&
    (change.magnitude ?? 0) < 0 &&
    change.segment &&
    inSegment(visit.userAgent, change.segment.who)
  ) {
    const p = Math.min(1, -change.magnitude! / SEGMENT_SHARE[change.segment.who]);
    if (rng() < p) return { kind: 'failed', incident: change, visible: change.segment.who === 'all' };
  }
  const spike = activeIncident(env.incidents, 'error_spike', t);
  if (spike && rng() < (spike.errorShare ?? 0))
    return {
      kind: 'retried',
      incident: spike,
      error: 'payment service error',
      success: rng() < RETRY_SUCCESS,
    };
  if (rng() < TRANSIENT_ERROR)
    return { kind: 'retried', incident: undefined, error: 'card declined', success: true };
  return { kind: 'ok' };
}

const segmentCache = new Map<string, Set<IncidentSegment['who']>>();

function inSegment(userAgent: string, who: IncidentSegment['who']): boolean {
  let segments = segmentCache.get(userAgent);
  if (!segments) {
    segments = new Set(['all']);
    if (/iPhone|iPad/.test(userAgent)) segments.add('ios');
    if (/iPhone|Android/.test(userAgent) && /Mobile/.test(userAgent)) segments.add('mobile');
    segmentCache.set(userAgent, segments);
  }
  return segments.has(who);
}

interface CartLine {
  product: Product;
  quantity: number;
}

/** Adds to the cart a little after the view; returns the new time. */
function addToCart(rng: Rng, visit: Visit, cart: CartLine[], product: Product, t: number): number {
  const quantity = product.price < 50 && rng() < 0.15 ? 2 : 1;
  const at = t + dwell(rng, 12);
  visit.emit(at, 'cart', product, { quantity });
  cart.push({ product, quantity });
  return at;
}

/** A crawler spreads over the whole catalogue at a polite pace; a scraper rips one category fast. */
export function botSession(rng: Rng, env: SessionEnv, start: number, wave?: DemoIncident): void {
  const { catalogue } = env;
  const client = botClient(rng, wave ? SCRAPER_FAMILIES : undefined);
  const visit = new Visit(env, uuid(rng), anonymousVisitorId(rng), null, client.ip, client.userAgent, null);
  visit.label = wave?.id;
  let t = start;
  visit.page('/');
  visit.emit(t, 'page_view');
  const pages = Math.min(400, client.crawler ? 20 + geometric(rng, 1 / 40) : 40 + geometric(rng, 1 / 100));
  const category = pickWeighted(rng, catalogue.categories, catalogue.categoryCumulative);
  let next = Math.floor(rng() * category.products.length);
  for (let i = 0; i < pages; i++) {
    t += client.crawler ? logNormal(rng, 2000, 0.7) : logNormal(rng, 400, 0.5);
    const product = client.crawler
      ? pick(rng, catalogue.products)
      : category.products[next++ % category.products.length];
    visit.page(product.path);
    visit.emit(t, 'view', product);
  }
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
