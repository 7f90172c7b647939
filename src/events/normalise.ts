import { isIP } from 'node:net';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { anonymizeIp, cookielessVisitorId, parseUserAgent, referrerHost, urlParts } from './enrich.js';
import { uuidv7 } from './ids.js';
import { type CanonicalEvent, EVENT_TYPES, type EventType, type Mapped, ok, reject } from './model.js';
import { type WireEvent, WireEventSchema } from './wire.js';

/** What the collector knows about the request an event came in. */
export interface IngestContext {
  siteId: string;
  source: CanonicalEvent['source'];
  receivedAt: number;
  ip: string | null;
  userAgent: string | null;
  /** Today's visitor-id salt (see enrich.cookielessVisitorId). */
  salt: string;
  anonymizeIp: boolean;
  /** Accepted event_time window relative to receivedAt; Infinity disables a side (imports). */
  maxFutureMs: number;
  maxPastMs: number;
}

const EARLIEST_PLAUSIBLE = Date.UTC(2000, 0, 1);
// Compiled once: checking every event with the interpreted Value.Check costs ~10× more.
const wireCheck = TypeCompiler.Compile(WireEventSchema);
const MAX_PROPS_BYTES = 32 * 1024;

const ALIASES: Record<string, EventType> = {
  pageview: 'page_view',
  page: 'page_view',
  add_to_cart: 'cart',
  addtocart: 'cart',
  remove: 'remove_from_cart',
  order: 'purchase',
  order_completed: 'purchase',
  refund: 'refund',
  checkout_started: 'checkout',
};

export function canonicalType(name: string): { type: EventType; name: string | null } {
  const key = name.trim().toLowerCase();
  if ((EVENT_TYPES as readonly string[]).includes(key) && key !== 'custom')
    return { type: key as EventType, name: null };
  const alias = ALIASES[key.replace(/[\s-]+/g, '_')];
  if (alias) return { type: alias, name: name };
  return { type: 'custom', name };
}

/** Accepts ISO-8601 text (with zone, or REES46's "YYYY-MM-DD HH:MM:SS UTC") or epoch milliseconds. */
export function parseEventTime(v: unknown): Mapped<number> {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return reject('time must be a finite number of milliseconds since 1970');
    if (v > 0 && v < 1e11)
      return reject(`time ${v} looks like seconds; send milliseconds since 1970 or ISO-8601 text`);
    return ok(Math.trunc(v));
  }
  if (typeof v !== 'string') return reject('time must be ISO-8601 text or milliseconds since 1970');
  const text = v.endsWith(' UTC') ? `${v.slice(0, -4).replace(' ', 'T')}Z` : v;
  if (!/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(text))
    return reject(`time "${v}" is not ISO-8601 (e.g. 2026-11-23T10:00:00Z)`);
  if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(text)) return reject(`time "${v}" has no time zone; add Z or an offset`);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return reject(`time "${v}" is not a valid date`);
  return ok(ms);
}

export function checkTimeWindow(ms: number, ctx: IngestContext): string | null {
  if (ms < EARLIEST_PLAUSIBLE) return `event time ${new Date(ms).toISOString()} is before 2000-01-01`;
  if (ms - ctx.receivedAt > ctx.maxFutureMs) {
    return `event time ${new Date(ms).toISOString()} is ${Math.round((ms - ctx.receivedAt) / 1000)} s in the future (limit ${ctx.maxFutureMs / 1000} s); check the sender's clock`;
  }
  if (ctx.receivedAt - ms > ctx.maxPastMs) {
    return `event time ${new Date(ms).toISOString()} is older than ${Math.round(ctx.maxPastMs / 86_400_000)} days; import history with \`storepulse import\``;
  }
  return null;
}

const str = (v: unknown): string | null => (v === undefined || v === null || v === '' ? null : String(v));
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export type EventFields = Partial<CanonicalEvent> & { event_type: EventType; event_time: number };

/** Fills a canonical event from mapped fields plus what the request tells (UA, IP, URL). */
export function buildEvent(ctx: IngestContext, f: EventFields): CanonicalEvent {
  const ua = f.user_agent ?? ctx.userAgent;
  const uaInfo = parseUserAgent(ua);
  const parts = urlParts(f.url);
  const rawIp = f.ip ?? ctx.ip;
  return {
    event_id: f.event_id ?? uuidv7(ctx.receivedAt),
    event_time: f.event_time,
    received_at: ctx.receivedAt,
    site_id: ctx.siteId,
    event_type: f.event_type,
    event_name: f.event_name ?? null,
    source: f.source ?? ctx.source,
    product_id: f.product_id ?? null,
    category_id: f.category_id ?? null,
    category_code: f.category_code ?? null,
    brand: f.brand ?? null,
    price: f.price ?? null,
    quantity: f.quantity ?? null,
    currency: f.currency ? f.currency.toUpperCase() : null,
    order_id: f.order_id ?? null,
    revenue: f.revenue ?? null,
    user_id: f.user_id ?? null,
    user_session: f.user_session ?? null,
    visitor_id: f.visitor_id ?? cookielessVisitorId(ctx.salt, ctx.siteId, rawIp, ua),
    url: f.url ?? null,
    path: f.path ?? parts.path,
    referrer: f.referrer ?? null,
    referrer_host: referrerHost(f.referrer),
    utm_source: f.utm_source ?? parts.utm_source,
    utm_medium: f.utm_medium ?? parts.utm_medium,
    utm_campaign: f.utm_campaign ?? parts.utm_campaign,
    utm_term: f.utm_term ?? parts.utm_term,
    utm_content: f.utm_content ?? parts.utm_content,
    user_agent: ua ?? null,
    browser: uaInfo.browser,
    browser_version: uaInfo.browser_version,
    os: uaInfo.os,
    device_type: uaInfo.device_type,
    is_bot: uaInfo.is_bot,
    ip: ctx.anonymizeIp ? anonymizeIp(rawIp) : rawIp,
    props: f.props ?? null,
  };
}

export function propsJson(props: unknown): Mapped<string | null> {
  if (props === undefined || props === null) return ok(null);
  const text = JSON.stringify(props);
  if (text === '{}') return ok(null);
  if (Buffer.byteLength(text) > MAX_PROPS_BYTES)
    return reject(`props is larger than ${MAX_PROPS_BYTES} bytes`);
  return ok(text);
}

/** Names the first schema violation the way a sender can act on it. */
function schemaReason(input: unknown): string {
  const first = [...Value.Errors(WireEventSchema, input)][0];
  if (!first) return 'invalid event';
  const field = first.path.replace(/^\//, '').replaceAll('/', '.');
  if (first.message.includes('Unexpected property')) {
    return `unknown field "${field}"; put custom data in "props"`;
  }
  if (!field) return `event must be a JSON object with at least "type"`;
  if (first.message.startsWith('Expected required')) return `missing required field "${field}"`;
  const schema = (WireEventSchema.properties as Record<string, TSchema>)[field.split('.')[0]];
  const expected = schema ? describeType(schema) : first.message.toLowerCase();
  return `field "${field}" must be ${expected}, got ${JSON.stringify(first.value)?.slice(0, 80)}`;
}

/** "a number ≥ 0 or null" from a TypeBox schema, for error messages. */
function describeType(s: TSchema): string {
  if (Array.isArray(s.anyOf)) return [...new Set((s.anyOf as TSchema[]).map(describeType))].join(' or ');
  if (s.type === 'null') return 'null';
  if (s.type === 'integer') return `a whole number${s.minimum !== undefined ? ` ≥ ${s.minimum}` : ''}`;
  if (s.type === 'number') return `a number${s.minimum !== undefined ? ` ≥ ${s.minimum}` : ''}`;
  if (s.type === 'string') {
    if (s.pattern === '^[A-Za-z]{3}$') return 'a 3-letter currency code';
    return `text${s.maxLength ? ` of at most ${s.maxLength} characters` : ''}`;
  }
  if (s.type === 'object') return 'an object';
  return 'valid';
}

/** Our own JSON event (a) → canonical event, or a reason. */
export function fromWire(input: unknown, ctx: IngestContext): Mapped {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return reject('event must be a JSON object with at least "type"');
  }
  if (!wireCheck.Check(input)) return reject(schemaReason(input));
  const e = input as WireEvent;
  let time = ctx.receivedAt;
  if (e.time !== undefined) {
    const t = parseEventTime(e.time);
    if (!t.ok) return t;
    time = t.value;
  }
  const window = checkTimeWindow(time, ctx);
  if (window) return reject(window);
  const props = propsJson(e.props);
  if (!props.ok) return props;
  if (e.ip !== undefined && isIP(e.ip) === 0)
    return reject(`field "ip" must be an IPv4 or IPv6 address, got ${JSON.stringify(e.ip).slice(0, 70)}`);
  // A backend sending on a visitor's behalf passes the visitor's IP and user agent (as Segment's context.ip).
  const visitorCtx =
    e.ip || e.user_agent ? { ...ctx, ip: e.ip ?? ctx.ip, userAgent: e.user_agent ?? ctx.userAgent } : ctx;
  const { type, name } = canonicalType(e.type);
  const price = num(e.price);
  const quantity = e.quantity ?? null;
  const revenue = num(e.revenue) ?? (type === 'purchase' && price !== null ? price * (quantity ?? 1) : null);
  return ok(
    buildEvent(visitorCtx, {
      event_id: e.event_id,
      event_time: time,
      event_type: type,
      event_name: name,
      product_id: str(e.product_id),
      category_id: str(e.category_id),
      category_code: str(e.category_code),
      brand: str(e.brand)?.toLowerCase() ?? null,
      price,
      quantity,
      currency: str(e.currency),
      order_id: str(e.order_id),
      revenue,
      user_id: str(e.user_id),
      user_session: str(e.session_id),
      visitor_id: str(e.visitor_id) ?? undefined,
      url: str(e.url),
      referrer: str(e.referrer),
      props: props.value,
    }),
  );
}
