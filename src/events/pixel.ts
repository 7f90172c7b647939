import { type Mapped, reject } from './model.js';
import { fromWire, type IngestContext } from './normalise.js';

/**
 * Pixel query parameters (`GET /t.gif?e=view&pid=42&price=9.99&url=…`) → our wire event.
 * Short names keep pixel URLs small; `p.<name>=value` adds a custom property.
 */
const TEXT: Record<string, string> = {
  e: 'type',
  id: 'event_id',
  url: 'url',
  ref: 'referrer',
  uid: 'user_id',
  sid: 'session_id',
  vid: 'visitor_id',
  pid: 'product_id',
  cid: 'category_id',
  cat: 'category_code',
  brand: 'brand',
  cur: 'currency',
  oid: 'order_id',
};
const NUMBER: Record<string, string> = { price: 'price', rev: 'revenue', t: 'time' };
const INTEGER: Record<string, string> = { qty: 'quantity' };
const CONTROL = new Set(['k', 'key', 'site', '_']); // write key, cache buster

export function fromPixel(query: Record<string, unknown>, ctx: IngestContext): Mapped {
  const wire: Record<string, unknown> = {};
  const props: Record<string, string> = {};
  for (const [k, raw] of Object.entries(query)) {
    if (CONTROL.has(k)) continue;
    const v = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (typeof v !== 'string') continue;
    if (k.startsWith('p.') && k.length > 2) props[k.slice(2)] = v;
    else if (TEXT[k]) wire[TEXT[k]] = v;
    else if (NUMBER[k] || INTEGER[k]) {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n) || (INTEGER[k] && !Number.isInteger(n))) {
        return reject(
          `pixel parameter "${k}" must be a ${INTEGER[k] ? 'whole ' : ''}number, got "${v.slice(0, 40)}"`,
        );
      }
      wire[NUMBER[k] ?? INTEGER[k]] = n;
    } else return reject(`unknown pixel parameter "${k}"; custom properties go in p.<name>`);
  }
  if (!wire.type) wire.type = 'page_view';
  if (Object.keys(props).length > 0) wire.props = props;
  return fromWire(wire, ctx);
}
