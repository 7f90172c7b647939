import type { ParsedFields, ParseOutcome } from '../log-record.js';

/**
 * One syslog message (RFC 5424 or RFC 3164) → header fields and the MSG part. The MSG is
 * returned as it is so the caller can parse it once more as an access log, JSON or key=value
 * line; a frame that is not syslog is an outcome with the reason, never an exception.
 */

export const SEVERITY_LEVELS = [
  'emergency',
  'alert',
  'critical',
  'error',
  'warn',
  'notice',
  'info',
  'debug',
] as const;

export const FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'security',
  'console',
  'solaris-cron',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;

export interface SyslogMessage {
  protocol: 'rfc5424' | 'rfc3164';
  facility: string;
  severity: number;
  time: number | null;
  hostname: string | null;
  appName: string | null;
  procId: string | null;
  msgId: string | null;
  /** RFC 5424 structured data: SD-ID → parameters. */
  structuredData: Record<string, Record<string, string>> | null;
  message: string;
  /**
   * RFC 3164 only: the reading with the first word taken as a TAG that lacks its ':' (rsyslog
   * forwards `Tag="nginx"` so); used when it lets the MSG parse as a log line.
   */
  colonlessTag?: { appName: string; procId: string | null; message: string };
}

export type SyslogOutcome = { ok: true; msg: SyslogMessage } | { ok: false; reason: string };

const nil = (s: string) => (s === '-' ? null : s);

/** `<PRI>` → facility and severity; PRI is at most 191 and has no leading zeros (RFC 5424 6.2.1). */
function pri(frame: string): { facility: string; severity: number; rest: string } | string {
  const m = /^<(\d{1,3})>/.exec(frame);
  if (!m) return 'no <PRI> at the start (not a syslog message)';
  const n = Number(m[1]);
  if (n > 191 || (m[1].length > 1 && m[1].startsWith('0'))) return `invalid PRI <${m[1]}>`;
  return { facility: FACILITIES[n >> 3], severity: n & 7, rest: frame.slice(m[0].length) };
}

/** `[id k="v" k2="v\"2"][id2 …]`; returns the parsed data and what follows, or a reason. */
function structuredData(
  s: string,
): { sd: Record<string, Record<string, string>>; rest: string } | { error: string } {
  const sd: Record<string, Record<string, string>> = {};
  let i = 0;
  while (s[i] === '[') {
    i++;
    const id = /^[^\s=\]"]+/.exec(s.slice(i));
    if (!id) return { error: 'structured data element without an SD-ID' };
    i += id[0].length;
    const params: Record<string, string> = {};
    while (s[i] === ' ') {
      i++;
      const name = /^([^\s=\]"]+)="/.exec(s.slice(i));
      if (!name) return { error: `bad SD-PARAM in [${id[0]}]` };
      i += name[0].length;
      let value = '';
      for (;;) {
        if (i >= s.length) return { error: `unterminated SD-PARAM value in [${id[0]}]` };
        const c = s[i];
        if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === ']')) {
          value += s[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
      params[name[1]] = value;
    }
    if (s[i] !== ']') return { error: `structured data element [${id[0]} is not closed` };
    i++;
    sd[id[0]] = params;
  }
  return { sd, rest: s.slice(i) };
}

function parse5424(p: { facility: string; severity: number }, rest: string): SyslogOutcome {
  // VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]
  const m = /^1 (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(rest);
  if (!m)
    return {
      ok: false,
      reason: 'RFC 5424 header is incomplete (needs 1 TIMESTAMP HOST APP PROCID MSGID SD)',
    };
  let time: number | null = null;
  if (m[1] !== '-') {
    time = Date.parse(m[1]);
    if (Number.isNaN(time) || !/^\d{4}-\d\d-\d\dT/.test(m[1]))
      return { ok: false, reason: `RFC 5424 timestamp "${m[1].slice(0, 40)}" is not RFC 3339` };
  }
  let after = rest.slice(m[0].length);
  let sd: Record<string, Record<string, string>> | null = null;
  if (after.startsWith('-')) after = after.slice(1);
  else if (after.startsWith('[')) {
    const r = structuredData(after);
    if ('error' in r) return { ok: false, reason: `RFC 5424 ${r.error}` };
    sd = r.sd;
    after = r.rest;
  } else return { ok: false, reason: 'RFC 5424 structured data must be "-" or start with "["' };
  if (after !== '' && !after.startsWith(' '))
    return { ok: false, reason: 'RFC 5424 structured data is not followed by a space' };
  // A UTF-8 MSG may start with a byte order mark (RFC 5424 6.4).
  const message = after.slice(1).replace(/^\uFEFF/, '');
  return {
    ok: true,
    msg: {
      protocol: 'rfc5424',
      ...p,
      time,
      hostname: nil(m[2]),
      appName: nil(m[3]),
      procId: nil(m[4]),
      msgId: nil(m[5]),
      structuredData: sd,
      message,
    },
  };
}

const MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');

/**
 * RFC 3164 `Mmm dd hh:mm:ss` has no year and no zone: it is read in this server's time zone,
 * in the year that puts it closest to now (a December line received in January is last year's).
 */
function bsdTime(mon: string, day: string, hms: string, now: number): number {
  const [h, mi, s] = hms.split(':').map(Number);
  const year = new Date(now).getFullYear();
  const candidates = [year - 1, year, year + 1].map((y) =>
    new Date(y, MONTHS.indexOf(mon), Number(day), h, mi, s).getTime(),
  );
  return candidates.reduce((best, t) => (Math.abs(t - now) < Math.abs(best - now) ? t : best));
}

function parse3164(p: { facility: string; severity: number }, rest: string, now: number): SyslogOutcome {
  let time: number | null = null;
  let hostname: string | null = null;
  let body = rest;
  const bsd = /^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ \d]\d) (\d\d:\d\d:\d\d) /.exec(rest);
  // Some senders (rsyslog's RFC3339 templates) put an ISO time where the BSD one goes.
  const iso = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /.exec(rest);
  if (bsd) {
    time = bsdTime(bsd[1], bsd[2].trim(), bsd[3], now);
    body = rest.slice(bsd[0].length);
  } else if (iso) {
    time = Date.parse(iso[1]);
    body = rest.slice(iso[0].length);
  }
  if (time !== null) {
    // HOSTNAME, unless the sender left it out and the TAG follows the time directly.
    const host = /^([^\s:[\]]+) /.exec(body);
    if (host) {
      hostname = host[1];
      body = body.slice(host[0].length);
    }
  }
  // TAG: up to 32 alphanumerics (we allow the usual - . _ / too), optional [pid], then ':'.
  let appName: string | null = null;
  let procId: string | null = null;
  const tag = /^([\w\-./@]{1,48})(?:\[([^\]\s]{1,32})\])?: ?/.exec(body);
  if (tag) {
    appName = tag[1];
    procId = tag[2] ?? null;
    body = body.slice(tag[0].length);
  }
  if (time === null && !tag)
    return { ok: false, reason: 'RFC 3164 message without a timestamp or tag after <PRI>' };
  const bare = tag ? null : /^([\w\-./@]{1,48})(?:\[([^\]\s]{1,32})\])? /.exec(body);
  return {
    ok: true,
    msg: {
      protocol: 'rfc3164',
      ...p,
      time,
      hostname,
      appName,
      procId,
      msgId: null,
      structuredData: null,
      message: body,
      ...(bare
        ? { colonlessTag: { appName: bare[1], procId: bare[2] ?? null, message: body.slice(bare[0].length) } }
        : {}),
    },
  };
}

/** Parses one frame (trailing newlines and NULs already removed by the framing). */
export function parseSyslog(frame: string, now = Date.now()): SyslogOutcome {
  const p = pri(frame);
  if (typeof p === 'string') return { ok: false, reason: p };
  const { rest, ...head } = p;
  if (rest.startsWith('1 ')) return parse5424(head, rest);
  return parse3164(head, rest, now);
}

/**
 * The syslog header as log fields: time, host, level (from the severity), the message, and
 * facility, app name, proc id, msg id and structured data under `syslog` in `fields`.
 * `inner` is the MSG parsed as a log line, when it was one: its fields win (an access log's
 * own time, client and status), except that an empty host is filled from the syslog header.
 */
export function syslogFields(msg: SyslogMessage, inner: ParseOutcome | null): ParseOutcome {
  const syslog: Record<string, unknown> = {
    protocol: msg.protocol,
    facility: msg.facility,
    severity: SEVERITY_LEVELS[msg.severity],
  };
  if (msg.appName) syslog.app_name = msg.appName;
  if (msg.procId) syslog.procid = msg.procId;
  if (msg.msgId) syslog.msgid = msg.msgId;
  if (msg.structuredData) syslog.structured_data = msg.structuredData;
  const f: ParsedFields = {
    time: msg.time,
    host: msg.hostname,
    level: SEVERITY_LEVELS[msg.severity],
    message: msg.message,
  };
  if (inner?.ok) {
    const i = inner.fields;
    for (const k in i) {
      const v = i[k as keyof ParsedFields];
      // biome-ignore lint/suspicious/noExplicitAny: copying one ParsedFields key to the same key
      if (v != null) (f as any)[k] = v;
    }
    f.time = i.time ?? msg.time;
    f.host = i.host ?? msg.hostname;
    // An access line's level comes from its status (5xx error, 4xx warn) as for lines over HTTP.
    f.level = i.level ?? (i.status != null ? null : SEVERITY_LEVELS[msg.severity]);
    f.message = i.message ?? msg.message;
    f.extra = { ...(i.extra ?? {}), syslog };
  } else f.extra = { syslog };
  return { ok: true, fields: f };
}
