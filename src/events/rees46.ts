import { createHash } from 'node:crypto';
import { type Mapped, reject } from './model.js';
import { buildEvent, checkTimeWindow, type IngestContext, parseEventTime } from './normalise.js';

export const REES46_HEADER =
  'event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session';
export const REES46_TYPES = new Set(['view', 'cart', 'remove_from_cart', 'purchase']);

/**
 * A deterministic event id for an imported row: the same file imported twice gives the same
 * ids, so the lake can tell a re-import from new data. The import SQL computes the same.
 */
export function rees46EventId(fileTag: string, line: number): string {
  return `${fileTag}-${line}`;
}

export function fileTag(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * One REES46 CSV row (already split into its 9 fields) → canonical event. The bulk import
 * does the same mapping in DuckDB SQL (import/rees46-import.ts); a test keeps them in step.
 */
export function fromRees46Row(fields: string[], ctx: IngestContext, eventId?: string): Mapped {
  if (fields.length !== 9) return reject(`expected 9 columns (${REES46_HEADER}), got ${fields.length}`);
  const [eventTime, eventType, productId, categoryId, categoryCode, brand, price, userId, session] = fields;
  const t = parseEventTime(eventTime);
  if (!t.ok) return t;
  const window = checkTimeWindow(t.value, ctx);
  if (window) return reject(window);
  if (!REES46_TYPES.has(eventType)) {
    return reject(`event_type "${eventType}" is not one of ${[...REES46_TYPES].join(', ')}`);
  }
  if (!/^\d+$/.test(productId)) return reject(`product_id "${productId}" is not a number`);
  const p = price === '' ? null : Number(price);
  if (p !== null && (!Number.isFinite(p) || p < 0))
    return reject(`price "${price}" is not a non-negative number`);
  if (categoryId !== '' && !/^\d+$/.test(categoryId))
    return reject(`category_id "${categoryId}" is not a number`);
  if (userId !== '' && !/^\d+$/.test(userId)) return reject(`user_id "${userId}" is not a number`);
  return {
    ok: true,
    value: buildEvent(ctx, {
      event_id: eventId,
      event_time: t.value,
      event_type: eventType as 'view',
      product_id: productId,
      category_id: categoryId || null,
      category_code: categoryCode || null,
      brand: brand || null,
      price: p,
      quantity: eventType === 'purchase' ? 1 : null,
      revenue: eventType === 'purchase' ? p : null,
      user_id: userId || null,
      user_session: session || null,
      visitor_id: userId || session || undefined,
    }),
  };
}
