import type { ParsedFields, ParseOutcome } from '../log-record.js';

/**
 * Access logs described by an nginx `log_format` string, e.g.
 *   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
 * compiled once into a regular expression. Apache's common and combined formats are the same
 * lines, so one compiler serves both. Variables it does not know become extra fields.
 */

export const ACCESS_FORMATS = {
  common: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent',
  combined:
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"',
} as const;

function addExtra(f: ParsedFields, key: string, value: unknown): void {
  f.extra ??= {};
  f.extra[key] = value;
}

type Setter = (f: ParsedFields, v: string) => void;

const num = (v: string): number | null => (v === '-' || v === '' ? null : Number(v));
const str = (v: string): string | null => (v === '-' || v === '' ? null : v);

const MONTHS: Record<string, string> = {
  Jan: '01',
  Feb: '02',
  Mar: '03',
  Apr: '04',
  May: '05',
  Jun: '06',
  Jul: '07',
  Aug: '08',
  Sep: '09',
  Oct: '10',
  Nov: '11',
  Dec: '12',
};

/** `17/May/2015:10:05:03 +0000` → ms since epoch, or null. */
export function parseClfTime(v: string): number | null {
  const m = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(v);
  if (!m || !MONTHS[m[2]]) return null;
  const t = Date.parse(`${m[3]}-${MONTHS[m[2]]}-${m[1]}T${m[4]}:${m[5]}:${m[6]}${m[7]}${m[8]}:${m[9]}`);
  return Number.isNaN(t) ? null : t;
}

/** `GET /a/b?x=1 HTTP/1.1` → method, path, query, protocol. */
export function splitRequest(f: ParsedFields, request: string): void {
  const parts = request.split(' ');
  if (parts.length < 2) {
    f.message = request;
    return;
  }
  f.method = parts[0];
  const target = parts.slice(1, parts.length > 2 ? -1 : undefined).join(' ');
  if (parts.length > 2) f.protocol = parts[parts.length - 1];
  const q = target.indexOf('?');
  f.path = q < 0 ? target : target.slice(0, q);
  f.query = q < 0 ? null : target.slice(q + 1);
}

const VARIABLES: Record<string, Setter> = {
  remote_addr: (f, v) => {
    f.ip = str(v);
  },
  http_x_forwarded_for: (f, v) => {
    const first = str(v)?.split(',')[0].trim();
    if (first) f.ip = first;
  },
  remote_user: (f, v) => {
    if (str(v)) addExtra(f, 'remote_user', v);
  },
  time_local: (f, v) => {
    f.time = parseClfTime(v);
  },
  time_iso8601: (f, v) => {
    const t = Date.parse(v);
    f.time = Number.isNaN(t) ? null : t;
  },
  msec: (f, v) => {
    f.time = Math.round(Number(v) * 1000);
  },
  request: splitRequest,
  request_method: (f, v) => {
    f.method = str(v);
  },
  request_uri: (f, v) => {
    splitRequest(f, `- ${v}`);
    f.method = null;
  },
  server_protocol: (f, v) => {
    f.protocol = str(v);
  },
  status: (f, v) => {
    f.status = num(v);
  },
  body_bytes_sent: (f, v) => {
    f.bytes = num(v);
  },
  bytes_sent: (f, v) => {
    f.bytes = num(v);
  },
  http_referer: (f, v) => {
    f.referrer = str(v);
  },
  http_user_agent: (f, v) => {
    f.user_agent = str(v);
  },
  request_time: (f, v) => {
    const s = num(v);
    f.response_time_ms = s === null ? null : s * 1000;
  },
  upstream_response_time: (f, v) => {
    const s = num(v);
    if (f.response_time_ms == null && s !== null && !Number.isNaN(s)) f.response_time_ms = s * 1000;
  },
  host: (f, v) => {
    f.host = str(v);
  },
  server_name: (f, v) => {
    f.host = str(v);
  },
};

const NUMERIC = new Set(['status', 'body_bytes_sent', 'bytes_sent', 'request_time', 'msec']);

export interface AccessParser {
  format: string;
  parse(line: string): ParseOutcome;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Compiles a log_format string; throws (a configuration error) when it has no variable. */
export function compileAccessFormat(format: string): AccessParser {
  const setters: [string, Setter][] = [];
  let pattern = '^';
  let lenient = '^';
  const re = /\$([a-z_][a-z0-9_]*)/g;
  let last = 0;
  const vars = [...format.matchAll(re)];
  if (vars.length === 0) throw new Error(`log format "${format}" has no $variable`);
  vars.forEach((m, i) => {
    const literal = format.slice(last, m.index);
    last = (m.index ?? 0) + m[0].length;
    const before = literal.at(-1);
    const after = format[last];
    const isLast = i === vars.length - 1;
    // The field's shape follows from what encloses it in the format.
    let group: string;
    if (before === '"' && after === '"') group = '((?:[^"\\\\]|\\\\.)*)';
    else if (before === '[' && after === ']') group = '([^\\]]*)';
    else if (NUMERIC.has(m[1])) group = '(-|[0-9.]+)';
    else group = '(\\S*)';
    pattern += escapeRe(literal) + group;
    // A line cut short inside its last quoted field (a truncated user agent) still parses.
    lenient += escapeRe(literal) + (isLast && before === '"' ? '([^"]*)' : group);
    const name = m[1];
    setters.push([
      name,
      VARIABLES[name] ??
        ((f, v) => {
          if (str(v) !== null) addExtra(f, name, v);
        }),
    ]);
  });
  const tail = format.slice(last);
  const strict = new RegExp(`${pattern}${escapeRe(tail)}\\s*$`);
  const cut = tail.startsWith('"') ? new RegExp(`${lenient}$`) : null;

  return {
    format,
    parse(line) {
      let m = strict.exec(line);
      let truncated = false;
      if (!m && cut) {
        m = cut.exec(line);
        truncated = m !== null;
      }
      if (!m) return { ok: false, reason: `line does not match the log format ${format}` };
      const f: ParsedFields = {};
      for (let i = 0; i < setters.length; i++) setters[i][1](f, unescapeField(m[i + 1]));
      if (f.status != null && (!Number.isInteger(f.status) || f.status < 100 || f.status > 999))
        return { ok: false, reason: `status "${f.status}" is not an HTTP status` };
      if (truncated) addExtra(f, 'truncated', true);
      return { ok: true, fields: f };
    },
  };
}

/** nginx escapes `"` and `\` in quoted fields as \x22 / \"; Apache as \". */
function unescapeField(v: string): string {
  if (!v.includes('\\')) return v;
  return v
    .replace(/\\x([0-9a-fA-F]{2})/g, (_, h) => String.fromCharCode(Number.parseInt(h, 16)))
    .replace(/\\(["\\])/g, '$1');
}
