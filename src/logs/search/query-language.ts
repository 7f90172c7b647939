import { type LiqeQuery, parse as liqeParse } from 'liqe';
import { LogQueryError, type PreparedQuery, prepareQuery } from './query-text.js';

/**
 * The log query language (Lucene-style, parsed by liqe) translated to SQLite: free text and
 * phrases go to FTS5 MATCH, fields to SQL on the `logs` columns. A compiled node means
 * "the MATCH string matches AND the SQL is true"; either part may be absent.
 * Every term is passed to FTS5 as a quoted string, so no user text is FTS syntax.
 */

type Kind = 'exact' | 'contains' | 'number' | 'bool' | 'time';
interface FieldDef {
  column: string;
  kind: Kind;
  /** The value appears in the raw line, so FTS can narrow before SQL checks. */
  inRaw: boolean;
}

const f = (column: string, kind: Kind, inRaw = false): FieldDef => ({ column, kind, inRaw });
export const FIELDS: Record<string, FieldDef> = {
  host: f('host', 'exact', true),
  ip: f('ip', 'exact', true),
  method: f('method', 'exact', true),
  path: f('path', 'exact', true),
  query: f('query', 'contains', true),
  protocol: f('protocol', 'exact', true),
  status: f('status', 'number', true),
  bytes: f('bytes', 'number'),
  referrer: f('referrer', 'contains', true),
  user_agent: f('user_agent', 'contains', true),
  ua: f('user_agent', 'contains', true),
  browser: f('browser', 'exact'),
  os: f('os', 'exact'),
  device_type: f('device_type', 'exact'),
  is_bot: f('is_bot', 'bool'),
  response_time: f('response_time_ms', 'number'),
  response_time_ms: f('response_time_ms', 'number'),
  level: f('level', 'exact'),
  message: f('message', 'contains', true),
  product_id: f('product_id', 'exact', true),
  category_id: f('category_id', 'exact', true),
  source: f('source', 'exact'),
  parse_error: f('parse_error', 'contains'),
  time: f('t', 'time'),
  '@timestamp': f('t', 'time'),
};

export interface Compiled {
  fts: string | null;
  sql: string | null;
  params: (string | number)[];
}

const MATCH_SQL = 'id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)';
const hasWord = (s: string) => /[\p{L}\p{N}]/u.test(s);
const ftsString = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** As one SQL condition (MATCH folded in), for OR and NOT. */
function asSql(c: Compiled): { sql: string; params: (string | number)[] } {
  const parts: string[] = [];
  const params: (string | number)[] = [];
  if (c.fts) {
    parts.push(MATCH_SQL);
    params.push(c.fts);
  }
  if (c.sql) {
    parts.push(c.sql);
    params.push(...c.params);
  }
  return { sql: parts.length ? `(${parts.join(' AND ')})` : '1', params };
}

function and(a: Compiled, b: Compiled): Compiled {
  return {
    fts: a.fts && b.fts ? `${a.fts} AND ${b.fts}` : (a.fts ?? b.fts),
    sql: a.sql && b.sql ? `${a.sql} AND ${b.sql}` : (a.sql ?? b.sql),
    params: [...a.params, ...b.params],
  };
}

function or(a: Compiled, b: Compiled): Compiled {
  if (!a.sql && !b.sql && a.fts && b.fts) return { fts: `(${a.fts} OR ${b.fts})`, sql: null, params: [] };
  const x = asSql(a);
  const y = asSql(b);
  return { fts: null, sql: `(${x.sql} OR ${y.sql})`, params: [...x.params, ...y.params] };
}

class Translator {
  constructor(private readonly prepared: PreparedQuery) {}

  private at(offset: number | undefined): number {
    return this.prepared.origin[offset ?? 0] ?? 0;
  }

  private fail(message: string, offset: number | undefined): never {
    throw new LogQueryError(message, this.at(offset));
  }

  node(n: LiqeQuery): Compiled {
    switch (n.type) {
      case 'EmptyExpression':
        return { fts: null, sql: null, params: [] };
      case 'ParenthesizedExpression':
        return this.node(n.expression);
      case 'UnaryOperator': {
        const x = asSql(this.node(n.operand));
        return { fts: null, sql: `NOT ${x.sql}`, params: x.params };
      }
      case 'LogicalExpression': {
        const l = this.node(n.left);
        const r = this.node(n.right);
        return n.operator.operator === 'OR' ? or(l, r) : and(l, r);
      }
      case 'Tag':
        return this.tag(n);
    }
  }

  private tag(n: Extract<LiqeQuery, { type: 'Tag' }>): Compiled {
    const e = n.expression;
    if (e.type === 'RegexExpression')
      this.fail('regular expressions are not supported; use wildcards (*, ?) instead', e.location.start);
    if (e.type === 'EmptyExpression') this.fail('a value is missing after the field', e.location.start);
    const start = e.location.start;
    if (n.field.type === 'ImplicitField') {
      if (e.type === 'RangeExpression') this.fail('a range needs a field, e.g. status:[500 TO 599]', start);
      return this.freeText(String(e.value), e.quoted && !this.prepared.autoQuoted.has(start), start);
    }
    const name = n.field.name;
    const def = FIELDS[name] ?? FIELDS[name.toLowerCase()];
    if (!def)
      this.fail(
        `unknown field "${name}"; fields are ${Object.keys(FIELDS).join(', ')}`,
        n.field.location.start,
      );
    const op = n.operator.operator;
    if (e.type === 'RangeExpression') {
      if (def.kind !== 'number' && def.kind !== 'time')
        this.fail(`field "${name}" is not numeric; ranges need a number field`, start);
      const { min, max, minInclusive, maxInclusive } = e.range;
      return {
        fts: null,
        sql: `${def.column} ${minInclusive ? '>=' : '>'} ? AND ${def.column} ${maxInclusive ? '<=' : '<'} ?`,
        params: [min, max],
      };
    }
    const raw = String(e.value);
    const quoted = e.quoted && !this.prepared.autoQuoted.has(start);
    if (op !== ':' && op !== ':=') {
      const cmp = op.slice(1);
      if (def.kind === 'number')
        return { fts: null, sql: `${def.column} ${cmp} ?`, params: [this.number(raw, name, start)] };
      if (def.kind === 'time') return { fts: null, sql: `t ${cmp} ?`, params: [this.time(raw, start)] };
      this.fail(`field "${name}" is not numeric; use ${name}:value`, n.operator.location.start);
    }
    switch (def.kind) {
      case 'number':
        return this.withRaw(def, raw, `${def.column} = ?`, [this.number(raw, name, start)]);
      case 'time':
        return { fts: null, sql: 't = ?', params: [this.time(raw, start)] };
      case 'bool': {
        const v = raw.toLowerCase();
        if (v !== 'true' && v !== 'false') this.fail(`field "${name}" is true or false`, start);
        return { fts: null, sql: `${def.column} = ?`, params: [v === 'true' ? 1 : 0] };
      }
      default: {
        if (!quoted && /[*?]/.test(raw)) {
          const like = raw
            .replace(/[%_\\]/g, '\\$&')
            .replaceAll('*', '%')
            .replaceAll('?', '_');
          return { fts: null, sql: `${def.column} LIKE ? ESCAPE '\\'`, params: [like] };
        }
        return def.kind === 'exact'
          ? this.withRaw(def, raw, `${def.column} = ? COLLATE NOCASE`, [raw])
          : this.withRaw(def, raw, `instr(lower(${def.column}), lower(?)) > 0`, [raw]);
      }
    }
  }

  private withRaw(def: FieldDef, value: string, sql: string, params: (string | number)[]): Compiled {
    const fts = def.inRaw && hasWord(value) ? ftsString(value) : null;
    return { fts, sql, params };
  }

  private freeText(value: string, quoted: boolean, start: number): Compiled {
    let v = value;
    let prefix = false;
    if (!quoted) {
      if (v.endsWith('*')) {
        prefix = true;
        v = v.slice(0, -1);
      }
      if (/[*?]/.test(v))
        this.fail(
          'in free text a wildcard may only end a word (kibana*); use field:val*ue for fields',
          start,
        );
    }
    if (!hasWord(v)) this.fail(`"${value}" has no letters or digits to search for`, start);
    return { fts: prefix ? `${ftsString(v)} *` : ftsString(v), sql: null, params: [] };
  }

  private number(raw: string, name: string, offset: number): number {
    const v = Number(raw);
    if (raw === '' || !Number.isFinite(v)) this.fail(`field "${name}" needs a number, not "${raw}"`, offset);
    return v;
  }

  private time(raw: string, offset: number): number {
    const v = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
    if (Number.isNaN(v))
      this.fail(`"${raw}" is not a time (use ISO 8601, e.g. 2024-05-17T10:00:00Z)`, offset);
    return v;
  }
}

/** Parses and translates a query; throws LogQueryError (message + position) for any mistake. */
export function compileQuery(query: string): Compiled {
  const prepared = prepareQuery(query);
  let ast: LiqeQuery;
  try {
    ast = liqeParse(prepared.text);
  } catch (err) {
    const offset = (err as { offset?: number }).offset;
    if (offset === undefined)
      throw new LogQueryError('the query ends too early: a value or an operand is missing', query.length);
    throw new LogQueryError('unexpected text', prepared.origin[offset] ?? query.length);
  }
  return new Translator(prepared).node(ast);
}
