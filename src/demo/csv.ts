import type { WireEvent } from '../events/wire.js';

/**
 * The REES46 CSV shape (`2019-Oct.csv` of the public e-commerce dataset), so demo data can
 * exercise the same import path and benchmarks as the real files.
 */

export const REES46_HEADER =
  'event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session';

const REES46_TYPES = new Set(['view', 'cart', 'remove_from_cart', 'purchase']);

/**
 * One CSV line (no newline) for a product event, or null for events REES46 has no row for
 * (page views, checkout, search…). REES46 has no anonymous rows: its user_id is the shop's
 * permanent visitor id, so a visitor who is not logged in exports their visitor_id.
 */
export function rees46Row(event: WireEvent): string | null {
  if (!REES46_TYPES.has(event.type)) return null;
  return `${rees46Time(event.time)},${event.type},${field(event.product_id)},${field(event.category_id)},${field(event.category_code)},${field(event.brand)},${event.price ?? ''},${field(event.user_id ?? event.visitor_id)},${field(event.session_id)}`;
}

/** `2019-10-01 00:00:00 UTC` from an ISO string or epoch ms. */
export function rees46Time(time: string | number | undefined): string {
  // Fast path for what the generator emits: `YYYY-MM-DDTHH:MM:SS.sssZ`.
  const iso =
    typeof time === 'string' && time.length === 24 && time.endsWith('Z')
      ? time
      : new Date(time ?? NaN).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

function field(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return s.includes(',') || s.includes('"') || s.includes('\n') ? `"${s.replaceAll('"', '""')}"` : s;
}

let cachedSecond = Number.NaN;
let cachedPrefix = '';
const MILLIS = Array.from({ length: 1000 }, (_, i) => `.${String(i).padStart(3, '0')}Z`);

/** `new Date(ms).toISOString()` for integer ms, cheaper for runs of times in the same second. */
export function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 19);
  }
  return cachedPrefix + MILLIS[ms - second * 1000];
}
