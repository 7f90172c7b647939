import type { CanonicalEvent } from '../events/model.js';

/**
 * What the detectors need of an event: the same few fields whether it comes from the stream
 * (a canonical event) or from the demo simulator when scoring, so both run the same code.
 */
export interface DetectorEvent {
  site: string;
  /** Event time, and the time the collector received it (caps the watermark). */
  time: number;
  received: number;
  /** event_type, or the sender's own name for custom events (e.g. checkout_error). */
  kind: string;
  session: string | null;
  user: string | null;
  ip: string | null;
  isBot: boolean;
  userAgent: string | null;
  device: string | null;
  browser: string | null;
  os: string | null;
  /** Where the visit came from: utm_source, else the referrer's host; null = none. */
  source: string | null;
  /** Top level of the product's category path (e.g. electronics). */
  category: string | null;
  orderId: string | null;
  revenue: number | null;
}

export function fromCanonical(e: CanonicalEvent): DetectorEvent {
  return {
    site: e.site_id,
    time: e.event_time,
    received: Number.isFinite(e.received_at) ? e.received_at : e.event_time,
    kind: e.event_type === 'custom' && e.event_name ? e.event_name : e.event_type,
    session: e.user_session ?? null,
    user: e.user_id ?? null,
    ip: e.ip ?? null,
    isBot: e.is_bot === true,
    userAgent: e.user_agent ?? null,
    device: e.device_type ?? null,
    browser: e.browser ?? null,
    os: e.os ?? null,
    source: e.utm_source ?? e.referrer_host ?? null,
    category: topCategory(e.category_code ?? null),
    orderId: e.order_id ?? null,
    revenue: typeof e.revenue === 'number' ? e.revenue : null,
  };
}

export const topCategory = (code: string | null): string | null => {
  if (!code) return null;
  const dot = code.indexOf('.');
  return dot === -1 ? code : code.slice(0, dot);
};

/** Event kinds that count as a failed payment (checkout error series). */
export const PAYMENT_ERROR_KINDS = new Set(['checkout_error', 'payment_error', 'payment_failed']);
export const LOGIN_KINDS = new Set(['login', 'sign_in', 'signed_in']);
export const LOGIN_FAILED_KINDS = new Set(['login_failed', 'sign_in_failed']);
