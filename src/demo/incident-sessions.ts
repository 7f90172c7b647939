import type { DemoIncident } from './incidents.js';
import { pick, type Rng, randInt, uuid } from './prng.js';
import { CURRENCY, type Extra, type SessionEnv, Visit } from './session.js';
import { anonymousVisitorId, hostingIp, SPOOFED_BROWSER_AGENT } from './visitors.js';

/**
 * The visits that incidents bring on their own (shoppers are in session.ts): flood requests,
 * cart bots, card testers. Every event they emit carries the incident's label.
 */

/** `count` flood requests in one minute: no cookies (a new visitor each time), a browser disguise. */
export function floodRequests(
  rng: Rng,
  env: SessionEnv,
  incident: DemoIncident,
  minuteStart: number,
  count: number,
) {
  const ips = incident.ips ?? [];
  const label: Extra = { props: { demo_incident: incident.id } };
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
      visit.emit(t, 'page_view', undefined, label);
    } else {
      const product = pick(rng, env.catalogue.products);
      visit.page(product.path);
      visit.emit(t, 'view', product, label);
    }
  }
}

/** A bot that hoards stock: a browser disguise, adds several products to cart, never views one. */
export function cartBotSession(rng: Rng, env: SessionEnv, incident: DemoIncident, start: number): void {
  const visit = new Visit(
    env,
    uuid(rng),
    anonymousVisitorId(rng),
    null,
    hostingIp(rng),
    SPOOFED_BROWSER_AGENT,
    null,
  );
  visit.label = incident.id;
  let t = start;
  for (let i = randInt(rng, 3, 8); i > 0; i--) {
    const product = pick(rng, env.catalogue.products);
    visit.page(product.path);
    visit.emit(t, 'cart', product, { quantity: randInt(rng, 1, 5) });
    t += 1000 + rng() * 4000;
  }
}

/** One card-testing attempt: a new session puts a cheap product in the cart and pays; most cards are declined. */
export function cardTest(rng: Rng, env: SessionEnv, incident: DemoIncident, start: number): void {
  const ip = pick(rng, incident.ips ?? [hostingIp(rng)]);
  const visit = new Visit(env, uuid(rng), anonymousVisitorId(rng), null, ip, SPOOFED_BROWSER_AGENT, null);
  visit.label = incident.id;
  const product = env.catalogue.products.reduce(
    (a, b) => (b.price < a.price ? b : a),
    env.catalogue.products[0],
  );
  visit.page(product.path);
  visit.emit(start, 'cart', product, { quantity: 1 });
  visit.page('/checkout');
  visit.emit(start + 2_000, 'checkout', undefined, { revenue: product.price, currency: CURRENCY });
  if (rng() < 0.9) {
    visit.emit(start + 5_000, 'checkout_error', undefined, { props: { error: 'card declined' } });
    return;
  }
  visit.page('/checkout/complete');
  visit.emit(start + 5_000, 'purchase', product, {
    quantity: 1,
    order_id: String(randInt(rng, 10_000_000, 99_999_999)),
    revenue: product.price,
  });
}
