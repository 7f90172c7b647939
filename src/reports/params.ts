import { ReportError } from './report-error.js';
import type { ReportParameter } from './types.js';

/**
 * Report parameters: declared once per report (name, type, bounds, default), validated here,
 * and handed to the report's SQL as bound values. Anything not declared is refused by name.
 */
export interface ParamDef extends Omit<ReportParameter, 'default'> {
  /** Text as in a query string; a function for defaults that depend on today. */
  default: string | ((todayMs: number) => string);
}

/** Validated values: dates stay 'YYYY-MM-DD', enums text, numbers numbers. */
export type ParamValues = Record<string, string | number>;

export interface ReportRange {
  from: string;
  to: string;
  /** Whole days in [from, to). */
  days: number;
  includeBots: boolean;
}

const DAY = 86_400_000;
export const DEFAULT_RANGE_DAYS = 28;
export const MAX_RANGE_DAYS = 3660;

export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const startOfDay = (ms: number): number => Math.floor(ms / DAY) * DAY;

/** from, to and bots: every report takes them. */
export const COMMON_PARAMS: ParamDef[] = [
  {
    name: 'from',
    type: 'date',
    description: 'first UTC day of the range (YYYY-MM-DD), inclusive',
    default: (today) => isoDay(startOfDay(today) - (DEFAULT_RANGE_DAYS - 1) * DAY),
  },
  {
    name: 'to',
    type: 'date',
    description: 'UTC day after the range (YYYY-MM-DD), exclusive',
    default: (today) => isoDay(startOfDay(today) + DAY),
  },
  {
    name: 'bots',
    type: 'enum',
    values: ['exclude', 'include'],
    description: 'leave out (default) or count events flagged as bots',
    default: 'exclude',
  },
];

function parseDate(name: string, text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!m || Number.isNaN(ms) || isoDay(ms) !== text) {
    throw new ReportError(
      `${name} must be a date as YYYY-MM-DD (UTC), got "${text.slice(0, 40)}"`,
      'bad_parameter',
      name,
    );
  }
  return ms;
}

function parseOne(def: ParamDef, text: string): string | number {
  switch (def.type) {
    case 'date':
      parseDate(def.name, text);
      return text;
    case 'enum':
      if (!def.values?.includes(text)) {
        throw new ReportError(
          `${def.name} must be one of ${def.values?.join(', ')}; got "${text.slice(0, 40)}"`,
          'bad_parameter',
          def.name,
        );
      }
      return text;
    case 'integer':
    case 'number': {
      const n = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : Number.NaN;
      const whole = def.type === 'integer';
      if (
        !Number.isFinite(n) ||
        (whole && !Number.isInteger(n)) ||
        n < (def.min ?? -Infinity) ||
        n > (def.max ?? Infinity)
      ) {
        throw new ReportError(
          `${def.name} must be ${whole ? 'a whole number' : 'a number'} from ${def.min} to ${def.max}; got "${text.slice(0, 40)}"`,
          'bad_parameter',
          def.name,
        );
      }
      return n;
    }
  }
}

/**
 * Checks a query string against a report's parameters: unknown names, repeated names, wrong
 * types, out-of-range values and from ≥ to are refused with a message naming the parameter.
 */
export function parseParams(
  defs: ParamDef[],
  raw: Record<string, unknown>,
  todayMs = Date.now(),
): { values: ParamValues; range: ReportRange; echo: Record<string, string> } {
  const known = new Set(defs.map((d) => d.name));
  for (const name of Object.keys(raw)) {
    if (!known.has(name)) {
      throw new ReportError(
        `unknown parameter "${name.slice(0, 40)}"; this report takes ${defs.map((d) => d.name).join(', ')}`,
        'bad_parameter',
        name.slice(0, 40),
      );
    }
  }
  const values: ParamValues = {};
  const echo: Record<string, string> = {};
  for (const def of defs) {
    const given = raw[def.name];
    if (Array.isArray(given)) throw new ReportError(`give ${def.name} once`, 'bad_parameter', def.name);
    if (given !== undefined && typeof given !== 'string')
      throw new ReportError(`${def.name} must be text`, 'bad_parameter', def.name);
    const text = given === undefined || given === '' ? resolveDefault(def, todayMs) : given;
    values[def.name] = parseOne(def, text);
    echo[def.name] = String(values[def.name]);
  }
  const from = parseDate('from', String(values.from));
  const to = parseDate('to', String(values.to));
  const days = Math.round((to - from) / DAY);
  if (days < 1) throw new ReportError('from must be before to (to is exclusive)', 'bad_parameter', 'to');
  if (days > MAX_RANGE_DAYS)
    throw new ReportError(
      `the range may span at most ${MAX_RANGE_DAYS} days, got ${days}`,
      'bad_parameter',
      'to',
    );
  return {
    values,
    range: { from: String(values.from), to: String(values.to), days, includeBots: values.bots === 'include' },
    echo,
  };
}

export const resolveDefault = (def: ParamDef, todayMs: number): string =>
  typeof def.default === 'function' ? def.default(todayMs) : def.default;

/** The public description of a parameter (defaults resolved for today). */
export function describeParam(def: ParamDef, todayMs = Date.now()): ReportParameter {
  const { default: _default, ...rest } = def;
  return { ...rest, default: resolveDefault(def, todayMs) };
}
