import type { Evaluation, Signal } from './types.js';

/**
 * The Logs page query (src/logs/search/query-language.ts) that shows the log lines behind an
 * alert, or null when the alert has no log meaning. Detectors attach it to the signal's
 * evidence as `logsQuery`, so the Alerts page links to it and notifications carry it.
 */
export function logsQueryOf(s: Signal): string | null {
  const l = s.labels;
  switch (l.alertname) {
    case 'http_5xx': {
      const host = typeof s.evidence?.host === 'string' ? s.evidence.host : null;
      return host ? `status:[500 TO 599] AND host:${quote(host)}` : 'status:[500 TO 599]';
    }
    case 'failed_logins':
      return l.key ? keyQuery(l.key) : null;
    case 'login_errors':
      return 'status:[401 TO 403]';
    case 'request_flood':
      return l.network ? networkQuery(l.network) : null;
    case 'session_flood':
    case 'card_testing':
    case 'cart_bots': {
      const offenders = (s.evidence?.offenders ?? []) as {
        kind?: string;
        key?: string;
        ips?: { ip: string }[];
      }[];
      const ips = new Set<string>();
      for (const o of offenders) {
        if (o.kind === 'ip' && o.key) ips.add(o.key);
        for (const a of o.ips ?? []) ips.add(a.ip);
        if (ips.size >= 5) break;
      }
      return ips.size > 0
        ? [...ips]
            .slice(0, 5)
            .map((ip) => `ip:${quote(ip)}`)
            .join(' OR ')
        : null;
    }
    case 'bot_wave':
      return 'is_bot:true';
    default:
      return null;
  }
}

/** `ip:1.2.3.4` → `ip:1.2.3.4`; `user:alice` → the account as a phrase. */
function keyQuery(key: string): string {
  const colon = key.indexOf(':');
  const kind = key.slice(0, colon);
  const value = key.slice(colon + 1);
  return kind === 'ip' ? `ip:${quote(value)}` : `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** A /24 (`1.2.3.0/24`) as a wildcard over its addresses; anonymised addresses end in .0, which it matches too. */
function networkQuery(network: string): string | null {
  const m = /^(\d+\.\d+\.\d+)\.0\/24$/.exec(network);
  return m ? `ip:${m[1]}.*` : null;
}

/** Values with characters the query language treats specially are quoted. */
const quote = (v: string) => (/^[\w.*-]+$/.test(v) ? v : `"${v.replaceAll('"', '\\"')}"`);

/** Adds `evidence.logsQuery` to the signals that have one. */
export function withLogsQuery(e: Evaluation): Evaluation {
  if (e.signals.length === 0) return e;
  return {
    ...e,
    signals: e.signals.map((s) => {
      const q = logsQueryOf(s);
      return q ? { ...s, evidence: { ...s.evidence, logsQuery: q } } : s;
    }),
  };
}
