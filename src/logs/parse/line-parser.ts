import { randomUUID } from 'node:crypto';
import { anonymizeIp, parseUserAgent } from '../../events/enrich.js';
import type { LogRecord, ParsedFields, ParseOutcome } from '../log-record.js';
import { ACCESS_FORMATS, type AccessParser, compileAccessFormat } from './access-format.js';
import { parseJsonLine, parseJsonObject, parseKeyValueLine } from './structured.js';

/**
 * Turns one line (or one shipped JSON document) into a LogRecord: parse by the source's
 * format, enrich (user agent, bot flag, anonymised IP, product/category ids from the path),
 * and keep unparseable lines with the reason.
 */

/** `apache`/`nginx`/`combined`/`common` (combined, falling back to common), `jsonl`, `kv`, `auto`, or an nginx log_format string. */
export type LogFormat = 'auto' | 'apache' | 'nginx' | 'combined' | 'common' | 'jsonl' | 'kv' | (string & {});
export const NAMED_FORMATS = ['auto', 'apache', 'nginx', 'combined', 'common', 'jsonl', 'kv'] as const;

export interface EnrichOptions {
  anonymizeIp: boolean;
  /** Regular expressions with named groups `product_id` and/or `category_id`, tried on the path. */
  pathPatterns: RegExp[];
}

export interface LineContext {
  siteId: string;
  source: string;
  receivedAt: number;
}

export const DEFAULT_PATH_PATTERNS = [
  '/products?/(?<product_id>[A-Za-z0-9_-]+)',
  '/categor(?:y|ies)/(?<category_id>[A-Za-z0-9_-]+)',
];

/** Compiles configured path patterns, naming the bad one. */
export function compilePathPatterns(patterns: string[]): RegExp[] {
  return patterns.map((p, i) => {
    try {
      const re = new RegExp(p);
      if (!/\(\?<(product_id|category_id)>/.test(p))
        throw new Error('it has no (?<product_id>…) or (?<category_id>…) group');
      return re;
    } catch (err) {
      throw new Error(`logs.pathPatterns[${i}] "${p}": ${(err as Error).message}`);
    }
  });
}

type RawParser = (line: string) => ParseOutcome;

function accessChain(parsers: AccessParser[]): RawParser {
  return (line) => {
    let first: ParseOutcome | null = null;
    for (const p of parsers) {
      const r = p.parse(line);
      if (r.ok) return r;
      first ??= r;
    }
    return first as ParseOutcome;
  };
}

const combinedOrCommon = accessChain([
  compileAccessFormat(ACCESS_FORMATS.combined),
  compileAccessFormat(ACCESS_FORMATS.common),
]);

/** The raw parser for a format; throws on a custom format string without variables. */
export function rawParser(format: LogFormat): RawParser {
  switch (format) {
    case 'apache':
    case 'nginx':
    case 'combined':
    case 'common':
      return combinedOrCommon;
    case 'jsonl':
      return parseJsonLine;
    case 'kv':
      return parseKeyValueLine;
    case 'auto':
      return (line) => {
        const t = line.trimStart();
        if (t.startsWith('{')) return parseJsonLine(line);
        const access = combinedOrCommon(line);
        if (access.ok) return access;
        const kv = parseKeyValueLine(line);
        if (kv.ok && /^\s*[A-Za-z_@][\w.@-]*=/.test(line)) return kv;
        return { ok: false, reason: 'not an access log, JSON or key=value line' };
      };
    default: {
      const custom = compileAccessFormat(format);
      return (line) => custom.parse(line);
    }
  }
}

const levelOfStatus = (s: number | null | undefined) =>
  s == null ? null : s >= 500 ? 'error' : s >= 400 ? 'warn' : 'info';

export function buildRecord(
  outcome: ParseOutcome,
  raw: string,
  ctx: LineContext,
  o: EnrichOptions,
): LogRecord {
  const f: ParsedFields = outcome.ok ? outcome.fields : { message: raw };
  // A shipped document whose message is itself an access log line (Filebeat, rsyslog) is parsed once more.
  if (outcome.ok && f.message && f.status == null && f.path == null) {
    const inner = combinedOrCommon(f.message);
    // The line's own time wins over the shipper's (read or send time).
    if (inner.ok) Object.assign(f, { ...inner.fields, time: inner.fields.time ?? f.time });
  }
  const ua = f.user_agent ? parseUserAgent(f.user_agent) : null;
  let product: string | null = null;
  let category: string | null = null;
  if (f.path)
    for (const re of o.pathPatterns) {
      const g = re.exec(f.path)?.groups;
      if (!g) continue;
      product ??= g.product_id ?? null;
      category ??= g.category_id ?? null;
    }
  const status = f.status ?? null;
  const ip = f.ip ? (o.anonymizeIp ? (anonymizeIp(f.ip) ?? f.ip) : f.ip) : null;
  // The raw line is searchable too: it must not keep the address that `ip` hides.
  const kept = f.ip && ip !== f.ip ? raw.replaceAll(f.ip, ip as string) : raw;
  return {
    log_id: randomUUID(),
    log_time: f.time ?? ctx.receivedAt,
    received_at: ctx.receivedAt,
    site_id: ctx.siteId,
    source: ctx.source,
    host: f.host ?? null,
    ip,
    method: f.method ?? null,
    path: f.path ?? null,
    query: f.query ?? null,
    protocol: f.protocol ?? null,
    status,
    bytes: f.bytes ?? null,
    referrer: f.referrer ?? null,
    user_agent: f.user_agent ?? null,
    browser: ua?.browser ?? null,
    os: ua?.os ?? null,
    device_type: ua?.device_type ?? null,
    is_bot: ua?.is_bot ?? false,
    response_time_ms: f.response_time_ms ?? null,
    level: f.level ?? levelOfStatus(status),
    message: f.message ?? null,
    product_id: product,
    category_id: category,
    fields: f.extra ? JSON.stringify(f.extra) : null,
    raw: kept,
    parse_error: outcome.ok ? null : outcome.reason,
  };
}

export interface LineParser {
  line(raw: string, ctx: LineContext): LogRecord;
  /** A document from a shipper (Elasticsearch _bulk source). */
  document(doc: unknown, ctx: LineContext): LogRecord;
}

export function createLineParser(format: LogFormat, o: EnrichOptions): LineParser {
  const parse = rawParser(format);
  return {
    line: (raw, ctx) => buildRecord(parse(raw), raw, ctx, o),
    document: (doc, ctx) => buildRecord(parseJsonObject(doc), JSON.stringify(doc), ctx, o),
  };
}
