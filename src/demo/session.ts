import type { WireEvent } from '../events/wire.js';
import { type Catalogue, type Category, pickProduct, type Product } from './catalogue.js';
import { activeIncident, type DemoIncident, ORDER_DROP_SURVIVAL } from './incidents.js';
import { geometric, logNormal, pick, pickWeighted, randInt, type Rng, uuid } from './prng.js';
import {
  anonymousVisitorId,
  botClient,
  pickReferral,
  pickVisitorIndex,
  SPOOFED_BROWSER_AGENT,
  type Visitor,
  visitorFor,
} from './visitors.js';

/**
 * One visit to the demo store, as the events a tracker would send: a shopper walking the
 * funnel (landing → product views → cart → checkout → purchase, leaking at every step),
 * a crawler or scraper sweeping product pages, or one request of a flood. Events are handed
 * to `env.emit` with their time; the generator puts them in time order and stamps `time`.
 */

/** One simulated request: the event plus the client it came from, for User-Agent and X-Forwarded-For. */
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
  emit: (t: number, item: DemoItem) => void;
}

const CURRENCY = 'USD';
// Funnel probabilities, tuned so ~9% of shopper sessions cart, ~30% of those buy (≈2.7% overall).
const BOUNCE = 0.3;
const CART = 0.13; // per non-bounced session, times the visitor's propensity
const SECOND_ITEM = 0.25;
const REMOVE = 0.2;
const CHECKOUT = 0.5;
const PAY = 0.7;
const COMPLEMENT_VIEW = 0.4;
const COMPLEMENT_CART = 0.5;

/** The tracker state of one visit: who, and which page the next event happens on. */
class Visit {
  private seq = 0;
  private url: string | null = null;
  private referrer: string | null;

  constructor(
    private readonly env: SessionEnv,
    private readonly sessionId: string,
    private readonly visitorId: string,
    private readonly userId: string | null,
    private readonly ip: string,
    private readonly userAgent: string,
    externalReferrer: string | null,
  ) {
    this.referrer = externalReferrer;
  }

  /** Navigates: the previous page becomes the referrer (the landing page keeps the external one). */
  page(path: string): void {
    if (this.url !== null) this.referrer = this.url;
    this.url = this.env.siteUrl + path;
  }

  emit(t: number, type: string, product?: Product, quantity?: number): WireEvent {
    const event: WireEvent = {
      event_id: `${this.sessionId}-${this.seq++}`,
      type,
      time: '', // stamped in time order by the generator (cheaper: consecutive events share a second)
      visitor_id: this.visitorId,
      session_id: this.sessionId,
    };
    if (this.userId !== null) event.user_id = this.userId;
    if (product !== undefined) {
      event.product_id = product.productId;
      event.category_id = product.categoryId;
      event.category_code = product.categoryCode;
      event.brand = product.brand;
      event.price = product.price;
      if (quantity !== undefined) event.quantity = quantity;
      event.currency = CURRENCY;
    }
    event.url = this.url;
    if (this.referrer !== null) event.referrer = this.referrer;
    this.env.emit(Math.floor(t), { event, ip: this.ip, userAgent: this.userAgent });
    return event;
  }
}

/** Seconds a person spends before the next step: skewed, capped so a session stays a session. */
const dwell = (rng: Rng, medianSec: number): number =>
  Math.min(900_000, logNormal(rng, medianSec * 1000, 0.8));

const listingPath = (category: Category): string => `/c/${category.code.replaceAll('.', '/')}`;

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

export function shopperSession(rng: Rng, env: SessionEnv, start: number): void {
  const { catalogue } = env;
  const visitor = visitorFor(env.seed, pickVisitorIndex(rng, env.poolSize));
  const loggedIn = visitor.accountId !== null && rng() < 0.7;
  const referral = pickReferral(rng);
  const visit = new Visit(
    env,
    uuid(rng),
    visitor.visitorId,
    loggedIn ? visitor.accountId : null,
    visitor.ip,
    visitor.userAgent,
    referral.referrer,
  );
  let t = start;

  // Landing: campaigns and search results point at products and categories, direct visits at the home page.
  const landing = rng();
  if (landing < 0.25) {
    const product = productFor(rng, catalogue, visitor);
    visit.page(product.path + referral.query);
    visit.emit(t, 'view', product); // a product page's view is its page view, as in REES46
  } else {
    visit.page((landing < 0.55 ? listingPath(visitor.affinity[0]) : '/') + referral.query);
    visit.emit(t, 'page_view');
  }
  if (rng() < BOUNCE) return;

  const views = Math.min(30, 1 + geometric(rng, 0.3));
  const cartAt = new Set<number>();
  if (rng() < CART * visitor.propensity) {
    cartAt.add(rng() < 0.5 ? views - 1 : randInt(rng, 0, views - 1));
    if (rng() < SECOND_ITEM) cartAt.add(randInt(rng, 0, views - 1));
  }
  if (rng() < 0.1) {
    const query =
      visitor.brand ?? visitor.affinity[0].code.slice(visitor.affinity[0].code.lastIndexOf('.') + 1);
    t += dwell(rng, 8);
    visit.page(`/search?q=${encodeURIComponent(query)}`);
    visit.emit(t, 'search').props = { query };
  }

  const cart: { product: Product; quantity: number }[] = [];
  const addToCart = (product: Product) => {
    const quantity = product.price < 50 && rng() < 0.15 ? 2 : 1;
    t += dwell(rng, 12);
    visit.emit(t, 'cart', product, quantity);
    cart.push({ product, quantity });
  };
  for (let i = 0; i < views; i++) {
    if (rng() < 0.3) {
      t += dwell(rng, 10);
      visit.page(listingPath(pick(rng, visitor.affinity)));
      visit.emit(t, 'page_view');
    }
    t += dwell(rng, 25);
    const product = productFor(rng, catalogue, visitor);
    visit.page(product.path);
    visit.emit(t, 'view', product);
    if (!cartAt.has(i) || cart.some((c) => c.product === product)) continue;
    addToCart(product);
    const complement = catalogue.complements.get(product.index);
    if (complement !== undefined && rng() < COMPLEMENT_VIEW) {
      const extra = catalogue.products[complement];
      t += dwell(rng, 15);
      visit.page(extra.path);
      visit.emit(t, 'view', extra);
      if (rng() < COMPLEMENT_CART) addToCart(extra);
    }
  }
  if (cart.length === 0) return;

  t += dwell(rng, 20);
  visit.page('/cart');
  visit.emit(t, 'page_view');
  if (rng() < REMOVE) {
    const removed = cart.pop()!;
    t += dwell(rng, 6);
    visit.emit(t, 'remove_from_cart', removed.product, removed.quantity);
  }
  if (cart.length === 0 || rng() >= CHECKOUT) return;

  const total = round2(cart.reduce((sum, c) => sum + c.product.price * c.quantity, 0));
  t += dwell(rng, 30);
  visit.page('/checkout');
  const checkout = visit.emit(t, 'checkout');
  checkout.revenue = total;
  checkout.currency = CURRENCY;
  if (rng() >= PAY) return; // abandoned at the payment form

  t += dwell(rng, 90);
  const outage = activeIncident(env.incidents, 'order_drop', t);
  if (outage !== undefined && rng() >= ORDER_DROP_SURVIVAL) {
    checkout.props = { demo_incident: outage.id };
    visit.emit(t, 'checkout_error').props = { demo_incident: outage.id, error: 'payment provider timeout' };
    return;
  }
  const orderId = String(randInt(rng, 10_000_000, 99_999_999));
  visit.page('/checkout/complete');
  for (const { product, quantity } of cart) {
    // One row per product, as REES46: revenue is the line total, so summing rows gives order revenue.
    const purchase = visit.emit(t, 'purchase', product, quantity);
    purchase.order_id = orderId;
    purchase.revenue = round2(product.price * quantity);
  }
}

/** A crawler spreads over the whole catalogue at a polite pace; a scraper rips one category fast. */
export function botSession(rng: Rng, env: SessionEnv, start: number): void {
  const { catalogue } = env;
  const client = botClient(rng);
  const visit = new Visit(env, uuid(rng), anonymousVisitorId(rng), null, client.ip, client.userAgent, null);
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

/** `count` flood requests in one minute: no cookies (a new visitor each time), a browser disguise. */
export function floodRequests(
  rng: Rng,
  env: SessionEnv,
  incident: DemoIncident,
  minuteStart: number,
  count: number,
) {
  const ips = incident.ips ?? [];
  for (let i = 0; i < count; i++) {
    const t = minuteStart + rng() * 60_000;
    const visit = new Visit(
      env,
      uuid(rng),
      anonymousVisitorId(rng),
      null,
      pick(rng, ips),
      SPOOFED_BROWSER_AGENT,
      null,
    );
    if (rng() < 0.5) {
      visit.page(rng() < 0.5 ? '/' : `/search?q=${randInt(rng, 0, 99999)}`);
      visit.emit(t, 'page_view').props = { demo_incident: incident.id };
    } else {
      const product = pick(rng, env.catalogue.products);
      visit.page(product.path);
      visit.emit(t, 'view', product).props = { demo_incident: incident.id };
    }
  }
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
