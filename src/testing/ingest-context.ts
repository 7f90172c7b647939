import type { IngestContext } from '../events/normalise.js';

export const NOW = Date.parse('2026-11-23T12:00:00Z');
export const CHROME_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/** A request context for mapping tests: a desktop Chrome visitor at a fixed time. */
export const ctx = (over: Partial<IngestContext> = {}): IngestContext => ({
  siteId: 'shop',
  source: 'api',
  receivedAt: NOW,
  ip: '203.0.113.77',
  userAgent: CHROME_UA,
  salt: 'salt-of-the-day',
  anonymizeIp: true,
  maxFutureMs: 600_000,
  maxPastMs: 31 * 86_400_000,
  ...over,
});
