import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { isbot } from 'isbot';
import UAParser from 'ua-parser-js';

export interface UserAgentInfo {
  browser: string | null;
  browser_version: string | null;
  os: string | null;
  device_type: string;
  is_bot: boolean;
}

// Most traffic comes from a few thousand distinct user agents; parsing is ~20 µs, a Map hit ~50 ns.
const UA_CACHE_MAX = 10_000;
const uaCache = new Map<string, UserAgentInfo>();

/** user agent → browser/OS/device via ua-parser-js (MIT, 1.x) and the bot flag via isbot. */
export function parseUserAgent(ua: string | null | undefined): UserAgentInfo {
  if (!ua) return { browser: null, browser_version: null, os: null, device_type: 'other', is_bot: false };
  const hit = uaCache.get(ua);
  if (hit) return hit;
  const r = new UAParser(ua).getResult();
  const bot = isbot(ua);
  const info: UserAgentInfo = {
    browser: r.browser.name ?? null,
    browser_version: r.browser.major ?? null,
    os: r.os.name ?? null,
    device_type: bot
      ? 'bot'
      : r.device.type === 'mobile' || r.device.type === 'tablet'
        ? r.device.type
        : r.device.type
          ? 'other'
          : 'desktop',
    is_bot: bot,
  };
  if (uaCache.size >= UA_CACHE_MAX) uaCache.delete(uaCache.keys().next().value as string);
  uaCache.set(ua, info);
  return info;
}

/** IPv4: zero the last octet. IPv6: keep the /48 network. Invalid → null. */
export function anonymizeIp(ip: string | null | undefined): string | null {
  if (!ip) return null;
  const v4mapped = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  const kind = isIP(v4mapped);
  if (kind === 4) return v4mapped.replace(/\.\d+$/, '.0');
  if (kind === 6) {
    const head = expandIpv6(v4mapped).slice(0, 3);
    return `${head.join(':')}::`;
  }
  return null;
}

function expandIpv6(ip: string): string[] {
  const [left, right = ''] = ip.split('::');
  const l = left ? left.split(':') : [];
  const r = right ? right.split(':') : [];
  const fill = ip.includes('::') ? new Array(8 - l.length - r.length).fill('0') : [];
  return [...l, ...fill, ...r].map((p) => p.toLowerCase().replace(/^0+(?=.)/, ''));
}

export function referrerHost(referrer: string | null | undefined): string | null {
  if (!referrer) return null;
  try {
    return new URL(referrer).hostname.replace(/^www\./, '') || null;
  } catch {
    return null;
  }
}

export interface UrlParts {
  path: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
}

export function urlParts(url: string | null | undefined): UrlParts {
  const empty: UrlParts = {
    path: null,
    utm_source: null,
    utm_medium: null,
    utm_campaign: null,
    utm_term: null,
    utm_content: null,
  };
  if (!url) return empty;
  let u: URL;
  try {
    u = new URL(url, 'http://relative.invalid');
  } catch {
    return empty;
  }
  const q = u.searchParams;
  return {
    path: u.pathname,
    utm_source: q.get('utm_source'),
    utm_medium: q.get('utm_medium'),
    utm_campaign: q.get('utm_campaign'),
    utm_term: q.get('utm_term'),
    utm_content: q.get('utm_content'),
  };
}

/**
 * Cookieless visitor id, as Plausible does it: hash(daily salt + site + IP + UA). The salt
 * rotates every UTC day and old salts are deleted, so ids cannot be linked across days or
 * reversed to an IP. Uses the full IP (before anonymisation) so that neighbours differ.
 */
export function cookielessVisitorId(
  salt: string,
  siteId: string,
  ip: string | null,
  ua: string | null,
): string {
  return createHash('sha256')
    .update(`${salt}\0${siteId}\0${ip ?? ''}\0${ua ?? ''}`)
    .digest('hex')
    .slice(0, 24);
}
