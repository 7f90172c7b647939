import type { CanonicalEvent } from '../events/model.js';
import { fromWire } from '../events/normalise.js';
import { CHROME_UA, ctx } from '../testing/ingest-context.js';

export const BOT_UA = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
export const T0 = Date.parse('2026-11-23T12:00:00Z');
export const SHOP_URL = 'https://shop.example';

export interface TestEventFields {
  type: string;
  /** Event time, ms. */
  time: number;
  visitor: string;
  /** Arrival time; defaults to 2 s after the event. */
  receivedAt?: number;
  userAgent?: string;
  site?: string;
  [field: string]: unknown;
}

/** A canonical event made the way the collector makes it (wire JSON → fromWire), for tests. */
export function testEvent(f: TestEventFields): CanonicalEvent {
  const { type, time, visitor, receivedAt, userAgent, site, ...rest } = f;
  const mapped = fromWire(
    { type, time, visitor_id: visitor, ...rest },
    ctx({ receivedAt: receivedAt ?? time + 2000, userAgent: userAgent ?? CHROME_UA, siteId: site ?? 'shop' }),
  );
  if (!mapped.ok) throw new Error(`test event refused: ${mapped.reason}`);
  return mapped.value;
}
