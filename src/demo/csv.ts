import type { WireEvent } from '../events/wire.js';
import type { PlannedEvent } from './session.js';

/**
 * The REES46 CSV shape (`2019-Oct.csv` of the public e-commerce dataset), so demo data can
 * exercise the same import path and benchmarks as the real files.
 */

export const REES46_HEADER =
  'event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session';

export const REES46_TYPES: ReadonlySet<string> = new Set(['view', 'cart', 'remove_from_cart', 'purchase']);

/**
 * One CSV line (no newline) for a product event, or null for events REES46 has no row for
 * (page views, checkout, search…). REES46 has no anonymous rows: its user_id is the shop's
 * permanent visitor id, so a visitor who is not logged in exports their visitor_id.
 */
export function rees46Row(event: WireEvent): string | null {
  if (!REES46_TYPES.has(event.type)) return null;
  // join makes one flat string; a template literal would chain ~17 intermediate strings per row.
  return [
    rees46Time(event.time),
    event.type,
    field(event.product_id),
    field(event.category_id),
    field(event.category_code),
    field(event.brand),
    field(event.price),
    field(event.user_id ?? event.visitor_id),
    field(event.session_id),
  ].join(',');
}

/**
 * rees46Row for a generator event that has not become a WireEvent yet, from columns joined once
 * per product and per visit: the 10M-row benchmark files need this speed. The test suite checks
 * that both give identical rows.
 */
export function plannedRees46Row(p: PlannedEvent): string | null {
  if (p.product === undefined || !REES46_TYPES.has(p.type)) return null;
  return `${minuteCached(rees46Minutes, p.t, ' UTC')},${p.type},${p.product.rees46Columns},${p.visit.rees46Columns}`;
}

/** `2019-10-01 00:00:00 UTC` from an ISO string or epoch ms. */
export function rees46Time(time: string | number | undefined): string {
  if (typeof time === 'number' && Number.isInteger(time)) return minuteCached(rees46Minutes, time, ' UTC');
  // Fast path for what the generator emits: `YYYY-MM-DDTHH:MM:SS.sssZ`.
  const iso =
    typeof time === 'string' && time.length === 24 && time.endsWith('Z')
      ? time
      : new Date(time ?? NaN).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

const NEEDS_QUOTES = /[",\r\n]/;

function field(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const SECONDS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const MILLIS = Array.from({ length: 1000 }, (_, i) => `.${String(i).padStart(3, '0')}Z`);

/** Formats a minute's `YYYY-MM-DD?HH:MM:` prefix once; events come in time order, so most calls hit. */
interface MinuteCache {
  minute: number;
  prefix: string;
  format: (minuteMs: number) => string;
}

const isoMinutes: MinuteCache = {
  minute: Number.NaN,
  prefix: '',
  format: (ms) => new Date(ms).toISOString().slice(0, 17),
};
const rees46Minutes: MinuteCache = {
  minute: Number.NaN,
  prefix: '',
  format: (ms) => new Date(ms).toISOString().slice(0, 17).replace('T', ' '),
};

/** Returns prefix + seconds (+ millis for ISO) + suffix for integer epoch ms. */
function minuteCached(cache: MinuteCache, ms: number, suffix: string): string {
  const minute = Math.floor(ms / 60_000);
  if (minute !== cache.minute) {
    cache.minute = minute;
    cache.prefix = cache.format(minute * 60_000);
  }
  const inMinute = ms - minute * 60_000;
  const second = Math.floor(inMinute / 1000);
  return cache.prefix + SECONDS[second] + (suffix === '' ? MILLIS[inMinute - second * 1000] : suffix);
}

/** `new Date(ms).toISOString()` for integer ms, cheaper for runs of times in the same minute. */
export const isoTime = (ms: number): string => minuteCached(isoMinutes, ms, '');
