import type { EventType, Mapped } from './model.js';
import { reject } from './model.js';
import {
  buildEvent,
  checkTimeWindow,
  type EventFields,
  type IngestContext,
  parseEventTime,
  propsJson,
} from './normalise.js';

/**
 * Segment spec calls (track/page/identify, e-commerce spec v2) → canonical events.
 * https://segment.com/docs/connections/spec/ecommerce/v2/
 */
const ECOMMERCE: Record<string, EventType> = {
  'products searched': 'search',
  'product list viewed': 'product_list_view',
  'product list filtered': 'product_list_view',
  'product clicked': 'product_click',
  'product viewed': 'view',
  'product added': 'cart',
  'product removed': 'remove_from_cart',
  'cart viewed': 'cart_view',
  'checkout started': 'checkout',
  'checkout step viewed': 'checkout_step',
  'checkout step completed': 'checkout_step',
  'payment info entered': 'payment_info',
  'order completed': 'purchase',
  'order refunded': 'refund',
  'coupon applied': 'coupon_applied',
  'product added to wishlist': 'wishlist_add',
  'product removed from wishlist': 'wishlist_remove',
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null;
const num = (v: unknown): number | null => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
};

function productFields(p: Obj): Partial<EventFields> {
  const quantity = num(p.quantity);
  return {
    product_id: str(p.product_id) ?? str(p.sku) ?? str(p.id),
    category_code: str(p.category)?.toLowerCase() ?? null,
    brand: str(p.brand)?.toLowerCase() ?? null,
    price: num(p.price),
    quantity: quantity === null ? null : Math.trunc(quantity),
  };
}

const KNOWN_PRODUCT_KEYS = new Set([
  'product_id',
  'sku',
  'id',
  'category',
  'brand',
  'price',
  'quantity',
  'currency',
]);

function rest(o: Obj, known: Set<string>): Obj {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !known.has(k)));
}

/** One Segment message (an element of /v1/batch, or the body of /v1/track|page|identify). */
export function fromSegment(msg: unknown, ctx: IngestContext, typeHint?: string): Mapped[] {
  if (!isObj(msg)) return [reject('Segment message must be a JSON object')];
  const type = str(msg.type) ?? typeHint;
  if (type !== 'track' && type !== 'page' && type !== 'identify' && type !== 'screen') {
    return [
      reject(
        `unsupported Segment call type "${type ?? ''}"; storepulse accepts track, page, screen, identify`,
      ),
    ];
  }
  const messageId = str(msg.messageId);
  const userId = str(msg.userId);
  const anonymousId = str(msg.anonymousId);
  if (!userId && !anonymousId) return [reject('Segment message needs userId or anonymousId')];
  const context = isObj(msg.context) ? msg.context : {};
  const page = isObj(context.page) ? context.page : {};
  const properties = isObj(msg.properties) ? msg.properties : {};

  let time = ctx.receivedAt;
  if (msg.timestamp !== undefined) {
    const t = parseEventTime(msg.timestamp);
    if (!t.ok) return [t];
    time = t.value;
  }
  const window = checkTimeWindow(time, ctx);
  if (window) return [reject(window)];

  const eventCtx: IngestContext = {
    ...ctx,
    userAgent: str(context.userAgent) ?? ctx.userAgent,
    ip: str(context.ip) ?? ctx.ip,
  };
  const base: EventFields = {
    event_id: messageId ?? undefined,
    event_time: time,
    event_type: 'custom',
    user_id: userId,
    visitor_id: anonymousId ?? undefined,
    url: str(properties.url) ?? str(page.url),
    referrer: str(properties.referrer) ?? str(page.referrer),
    currency: str(properties.currency),
    user_session: str(properties.session_id) ?? null,
  };

  if (type === 'identify') {
    const props = propsJson(isObj(msg.traits) ? { traits: msg.traits } : null);
    if (!props.ok) return [props];
    return [
      { ok: true, value: buildEvent(eventCtx, { ...base, event_type: 'identify', props: props.value }) },
    ];
  }
  if (type === 'page' || type === 'screen') {
    const props = propsJson({
      ...rest(properties, new Set(['url', 'referrer', 'path'])),
      ...(msg.name ? { name: msg.name } : {}),
    });
    if (!props.ok) return [props];
    return [
      {
        ok: true,
        value: buildEvent(eventCtx, {
          ...base,
          event_type: 'page_view',
          event_name: str(msg.name),
          props: props.value,
        }),
      },
    ];
  }

  const name = str(msg.event);
  if (!name) return [reject('Segment track call needs "event"')];
  const eventType = ECOMMERCE[name.toLowerCase()] ?? 'custom';
  const products = Array.isArray(properties.products) ? properties.products.filter(isObj) : [];
  const orderFields: Partial<EventFields> = {
    order_id: str(properties.order_id) ?? str(properties.checkout_id),
  };

  // An order becomes one purchase/refund row per product (as in REES46), each carrying its line
  // revenue, so sum(revenue) is the order's product revenue; the order total stays in props.
  if (
    (eventType === 'purchase' || eventType === 'refund' || eventType === 'checkout') &&
    products.length > 0
  ) {
    const props = propsJson(
      rest(properties, new Set(['products', 'order_id', 'currency', 'url', 'referrer'])),
    );
    if (!props.ok) return [props];
    return products.map((p, i) => {
      const pf = productFields(p);
      const line = pf.price != null ? pf.price * (pf.quantity ?? 1) : null;
      return {
        ok: true as const,
        value: buildEvent(eventCtx, {
          ...base,
          ...orderFields,
          ...pf,
          event_id: messageId ? `${messageId}:${i}` : undefined,
          event_type: eventType,
          event_name: name,
          revenue: eventType === 'refund' && line !== null ? -line : line,
          props: props.value,
        }),
      };
    });
  }

  const pf = productFields(properties);
  const total = num(properties.revenue) ?? num(properties.total) ?? num(properties.value);
  const props = propsJson(
    rest(properties, new Set([...KNOWN_PRODUCT_KEYS, 'order_id', 'url', 'referrer', 'revenue', 'total'])),
  );
  if (!props.ok) return [props];
  return [
    {
      ok: true,
      value: buildEvent(eventCtx, {
        ...base,
        ...orderFields,
        ...pf,
        event_type: eventType,
        event_name: name,
        revenue: eventType === 'refund' && total !== null ? -Math.abs(total) : total,
        props: props.value,
      }),
    },
  ];
}
