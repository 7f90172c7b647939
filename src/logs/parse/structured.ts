import type { ParsedFields, ParseOutcome } from '../log-record.js';

/**
 * JSON lines and key=value lines. Field names vary between shippers (Filebeat's `@timestamp`
 * and `log.level`, nginx JSON's `remote_addr`, Go's `msg`…); each canonical field lists the
 * names it is known by, after nested objects are flattened with dots.
 */
const ALIASES: Record<keyof Omit<ParsedFields, 'extra'>, string[]> = {
  time: ['@timestamp', 'timestamp', 'time', 'ts', 'date', 'datetime', 'time_iso8601', 'time_local'],
  host: ['host', 'hostname', 'host.name', 'host.hostname', 'server_name', 'http.host', 'url.domain'],
  ip: [
    'ip',
    'client_ip',
    'clientip',
    'remote_addr',
    'remote_ip',
    'client.ip',
    'source.ip',
    'http_x_forwarded_for',
  ],
  method: ['method', 'request_method', 'http.request.method', 'verb'],
  path: ['path', 'request_uri', 'uri', 'url', 'url.path', 'url.original', 'request_path'],
  query: ['query', 'query_string', 'args', 'url.query'],
  protocol: ['protocol', 'server_protocol', 'http.version', 'httpversion'],
  status: ['status', 'status_code', 'response', 'http.response.status_code', 'statusCode'],
  bytes: ['bytes', 'body_bytes_sent', 'bytes_sent', 'size', 'http.response.body.bytes', 'response_size'],
  referrer: ['referrer', 'referer', 'http_referer', 'http.request.referrer'],
  user_agent: ['user_agent', 'useragent', 'agent', 'http_user_agent', 'user_agent.original', 'userAgent'],
  response_time_ms: ['response_time_ms', 'duration_ms', 'latency_ms', 'elapsed_ms', 'responseTime'],
  level: ['level', 'severity', 'lvl', 'log.level', 'loglevel', 'syslog.severity', 'levelname'],
  message: ['message', 'msg', 'log', 'text', 'event.original'],
};
/** Durations given in seconds under these names (nginx, Go). */
const SECONDS = ['request_time', 'upstream_response_time', 'duration', 'latency', 'elapsed'];

function flatten(obj: Record<string, unknown>, prefix: string, out: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      flatten(v as Record<string, unknown>, key, out);
    else out[key] = v;
  }
}

const asString = (v: unknown): string | null =>
  v === null || v === undefined || v === '' || v === '-'
    ? null
    : typeof v === 'string'
      ? v
      : JSON.stringify(v);
const asNumber = (v: unknown): number | null => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '' && v !== '-') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
};

export function parseTime(v: unknown): number | null {
  if (typeof v === 'number') return v < 1e11 ? Math.round(v * 1000) : Math.round(v); // seconds or ms
  if (typeof v !== 'string' || v === '') return null;
  if (/^\d+(\.\d+)?$/.test(v)) return parseTime(Number(v));
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

/** Maps a flat object onto the canonical fields; the rest goes into `extra`. */
export function fieldsOf(flat: Record<string, unknown>): ParsedFields {
  const f: ParsedFields = {};
  const used = new Set<string>();
  const pick = (names: string[]) => {
    for (const n of names)
      if (flat[n] !== undefined && flat[n] !== null && flat[n] !== '') {
        used.add(n);
        return flat[n];
      }
    return undefined;
  };
  f.time = parseTime(pick(ALIASES.time));
  f.host = asString(pick(ALIASES.host));
  f.ip = asString(pick(ALIASES.ip))?.split(',')[0].trim() ?? null;
  f.method = asString(pick(ALIASES.method));
  const target = asString(pick(ALIASES.path));
  if (target) {
    const q = target.indexOf('?');
    let path = q < 0 ? target : target.slice(0, q);
    if (/^https?:\/\//.test(path)) path = path.replace(/^https?:\/\/[^/]*/, '') || '/';
    f.path = path;
    if (q >= 0) f.query = target.slice(q + 1);
  }
  f.query ??= asString(pick(ALIASES.query));
  f.protocol = asString(pick(ALIASES.protocol));
  f.status = asNumber(pick(ALIASES.status));
  f.bytes = asNumber(pick(ALIASES.bytes));
  f.referrer = asString(pick(ALIASES.referrer));
  f.user_agent = asString(pick(ALIASES.user_agent));
  f.response_time_ms = asNumber(pick(ALIASES.response_time_ms));
  if (f.response_time_ms === null) {
    const s = asNumber(pick(SECONDS));
    if (s !== null) f.response_time_ms = s * 1000;
  }
  const level = asString(pick(ALIASES.level));
  f.level = level ? level.toLowerCase() : null;
  f.message = asString(pick(ALIASES.message));
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flat)) if (!used.has(k)) extra[k] = v;
  if (Object.keys(extra).length > 0) f.extra = extra;
  return f;
}

export function parseJsonObject(doc: unknown): ParseOutcome {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    return { ok: false, reason: 'JSON line is not an object' };
  const flat: Record<string, unknown> = {};
  flatten(doc as Record<string, unknown>, '', flat);
  return { ok: true, fields: fieldsOf(flat) };
}

export function parseJsonLine(line: string): ParseOutcome {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (err) {
    return { ok: false, reason: `malformed JSON: ${(err as Error).message}` };
  }
  return parseJsonObject(doc);
}

const KV_RE = /([A-Za-z_@][\w.@-]*)=("((?:[^"\\]|\\.)*)"|\S*)/g;

/** `time=… level=info msg="user logged in" status=200` (logfmt). */
export function parseKeyValueLine(line: string): ParseOutcome {
  const flat: Record<string, unknown> = {};
  let n = 0;
  for (const m of line.matchAll(KV_RE)) {
    flat[m[1]] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2];
    n++;
  }
  if (n === 0) return { ok: false, reason: 'no key=value pairs in the line' };
  return { ok: true, fields: fieldsOf(flat) };
}
