import { isIP } from 'node:net';
import type { Offender, OffenderReason } from './traffic.js';

/**
 * Blocklist export of the offending IPs and networks: a plain list (one address or CIDR a
 * line, for firewalls and WAFs) or an nginx `deny` snippet to include in a server block.
 * Addresses covered by a listed network are left out; welcome crawlers never get here.
 */

export interface BlocklistOptions {
  format: 'plain' | 'nginx';
  /** Only offenders flagged for one of these reasons (default: all but session-only ones). */
  reasons?: OffenderReason[];
  /** The collector anonymises IPs to their /24: list networks, not the zeroed addresses. */
  anonymizedIps?: boolean;
  site?: string;
  now?: number;
}

export interface BlocklistEntry {
  target: string;
  reasons: OffenderReason[];
  requests60s: number;
  lastFlagged: number;
}

const DEFAULT_REASONS: OffenderReason[] = [
  'request_rate',
  'many_sessions',
  'traffic_share',
  'scraper',
  'card_testing',
];

/** The addresses and networks to block, networks first, each once. */
export function blocklistEntries(offenders: Iterable<Offender>, o: Omit<BlocklistOptions, 'format'> = {}) {
  const wanted = new Set(o.reasons ?? DEFAULT_REASONS);
  const entries = new Map<string, BlocklistEntry>();
  const add = (target: string, f: Offender) => {
    if (!validTarget(target)) return;
    const old = entries.get(target);
    entries.set(target, {
      target,
      reasons: [...new Set([...(old?.reasons ?? []), ...f.reasons.filter((r) => wanted.has(r))])],
      requests60s: Math.max(old?.requests60s ?? 0, f.peak60s),
      lastFlagged: Math.max(old?.lastFlagged ?? 0, f.lastFlagged),
    });
  };
  const list = [...offenders].filter((f) => f.kind !== 'session' && f.reasons.some((r) => wanted.has(r)));
  for (const f of list) if (f.kind === 'network') add(f.key, f);
  const networks = [...entries.keys()];
  for (const f of list) {
    if (f.kind !== 'ip') continue;
    const target = o.anonymizedIps && isIP(f.key) === 4 ? `${f.key}/24` : f.key;
    if (networks.some((n) => n === target || contains(n, f.key))) continue;
    add(target, f);
  }
  return [...entries.values()].sort(
    (a, b) => b.requests60s - a.requests60s || a.target.localeCompare(b.target),
  );
}

export function blocklist(offenders: Iterable<Offender>, o: BlocklistOptions): string {
  const entries = blocklistEntries(offenders, o);
  if (o.format === 'plain') return entries.map((e) => `${e.target}\n`).join('');
  const when = new Date(o.now ?? Date.now()).toISOString();
  const head = `# storepulse blocklist${o.site ? ` for site ${JSON.stringify(o.site)}` : ''}, ${when}: ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}\n`;
  return (
    head +
    entries
      .map(
        (e) =>
          `deny ${e.target};  # ${e.reasons.join(', ')}; peak ${e.requests60s} req/min; last flagged ${new Date(e.lastFlagged).toISOString()}\n`,
      )
      .join('')
  );
}

/** Only plain addresses and CIDRs reach a config file: nothing from event data can inject a directive. */
function validTarget(t: string): boolean {
  const [addr, bits, extra] = t.split('/');
  if (extra !== undefined || isIP(addr) === 0) return false;
  if (bits === undefined) return true;
  const max = isIP(addr) === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

/** Whether an IPv4 /24 or IPv6 /48 network (as networkOf makes them) contains `ip`. */
function contains(network: string, ip: string): boolean {
  const [addr, bits] = network.split('/');
  if (bits === '24') return ip.startsWith(addr.slice(0, addr.lastIndexOf('.') + 1));
  if (bits === '48') return ip.startsWith(addr.replace(/::$/, ':'));
  return false;
}
