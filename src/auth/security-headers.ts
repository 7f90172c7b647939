/** The dashboard is a same-origin SPA with no CDN: everything from 'self', inline styles for chart libraries. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

// Called from shops on other origins (tracker script, pixel, event and Segment APIs): no CSP or framing rules.
const COLLECTOR = [/^\/sp\.js(?:[?#]|$)/, /^\/t\.gif(?:[?#]|$)/, /^\/api\/v1\/events(?:[/?#]|$)/, /^\/v1\//];

export const isCollectorPath = (url: string): boolean => COLLECTOR.some((re) => re.test(url));

/** The headers every response carries; `secure` when the request came over TLS (or config says so). */
export function securityHeaders(url: string, secure: boolean): Record<string, string> {
  const headers: Record<string, string> = { 'x-content-type-options': 'nosniff' };
  if (secure) headers['strict-transport-security'] = 'max-age=31536000; includeSubDomains';
  if (isCollectorPath(url)) return headers;
  return {
    ...headers,
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  };
}
