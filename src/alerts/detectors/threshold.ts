import { type Static, Type as T, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Signal } from '../types.js';
import { windowValue } from './baseline.js';
import { METRICS, MINUTE, RATIOS, type SeriesView } from './series.js';

/**
 * Threshold rules on any live metric, as data: "purchases per 5 min < 1 between 08:00 and
 * 23:00" is
 *   {"id": "no-sales", "metric": "purchases", "windowMinutes": 5, "op": "<", "value": 1,
 *    "between": {"from": "08:00", "to": "23:00"}}
 * Rules are validated with errors that name the rule and the field; evaluation is a pure
 * function of the per-minute series.
 */

const Clock = T.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: 'HH:MM, 24-hour clock' });
const Day = T.Union([
  T.Literal('mon'),
  T.Literal('tue'),
  T.Literal('wed'),
  T.Literal('thu'),
  T.Literal('fri'),
  T.Literal('sat'),
  T.Literal('sun'),
]);

export const ThresholdRuleSchema = T.Object(
  {
    id: T.String({
      pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
      description: 'lowercase letters, digits, - and _',
    }),
    site: T.Optional(T.String({ minLength: 1, description: 'one site; omit for every site' })),
    metric: T.String({ minLength: 1, description: 'a live metric, e.g. orders, purchases, conversion' }),
    windowMinutes: T.Integer({
      minimum: 1,
      maximum: 1440,
      description: 'minutes summed (ratios: computed over)',
    }),
    op: T.Union([T.Literal('<'), T.Literal('<='), T.Literal('>'), T.Literal('>=')], {
      description: 'one of <, <=, >, >=',
    }),
    value: T.Number(),
    between: T.Optional(
      T.Object({ from: Clock, to: Clock }, { additionalProperties: false, description: 'active hours' }),
    ),
    days: T.Optional(T.Array(Day, { minItems: 1, description: 'active days: mon … sun' })),
    timeZone: T.Optional(T.String({ description: 'IANA time zone of between/days, e.g. Europe/Berlin' })),
    severity: T.Optional(T.Union([T.Literal('critical'), T.Literal('warning'), T.Literal('info')])),
    summary: T.Optional(T.String({ maxLength: 200, description: 'what to tell the person on call' })),
  },
  { additionalProperties: false },
);

export type ThresholdRule = Static<typeof ThresholdRuleSchema>;

export type Parsed<V> = { ok: true; value: V } | { ok: false; errors: string[] };

/** Every metric a rule may name: the additive values, ratios, and the error series pattern. */
export function knownMetric(metric: string): boolean {
  return (
    metric in METRICS || metric in RATIOS || /^(errors|requests|error_rate)\.[a-z0-9_]{1,40}$/.test(metric)
  );
}

export const METRIC_HELP = `${[...Object.keys(METRICS), ...Object.keys(RATIOS)].join(', ')}, errors.<series>, requests.<series>, error_rate.<series>`;

/** Validates one rule (from JSON); errors say which field is wrong and what it takes. */
export function parseThresholdRule(input: unknown, where = 'threshold rule'): Parsed<ThresholdRule> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { ok: false, errors: [`${where} must be a JSON object`] };
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const e of Value.Errors(ThresholdRuleSchema, input)) {
    const field = e.path.replace(/^\//, '').replaceAll('/', '.');
    const top = field.split('.')[0];
    if (seen.has(top)) continue;
    seen.add(top);
    errors.push(`${where}: ${explain(field, e.message, e.value)}`);
  }
  if (errors.length > 0) return { ok: false, errors };
  const rule = input as ThresholdRule;
  if (!knownMetric(rule.metric))
    errors.push(`${where}: unknown metric "${rule.metric}"; use one of ${METRIC_HELP}`);
  if (rule.timeZone !== undefined && !validTimeZone(rule.timeZone))
    errors.push(
      `${where}: time zone "${rule.timeZone}" is unknown; use an IANA name such as Europe/Berlin or UTC`,
    );
  if (rule.between && rule.between.from === rule.between.to)
    errors.push(`${where}: between.from and between.to are equal; omit "between" for all day`);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: rule };
}

/** Validates a list of rules; ids must be unique. */
export function parseThresholdRules(input: unknown): Parsed<ThresholdRule[]> {
  if (!Array.isArray(input)) return { ok: false, errors: ['threshold rules must be a JSON array of rules'] };
  const errors: string[] = [];
  const rules: ThresholdRule[] = [];
  const ids = new Set<string>();
  input.forEach((raw, i) => {
    const id = (raw as { id?: unknown })?.id;
    const r = parseThresholdRule(raw, `threshold rule ${i + 1}${typeof id === 'string' ? ` ("${id}")` : ''}`);
    if (!r.ok) errors.push(...r.errors);
    else if (ids.has(r.value.id)) errors.push(`threshold rule ${i + 1}: id "${r.value.id}" is used twice`);
    else {
      ids.add(r.value.id);
      rules.push(r.value);
    }
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: rules };
}

function explain(field: string, message: string, value: unknown): string {
  if (!field) return 'must be a JSON object';
  if (message.includes('Unexpected property')) {
    const close = Object.keys(ThresholdRuleSchema.properties).find((k) => similar(k, field));
    return `unknown field "${field}"${close ? `; did you mean "${close}"?` : ''}`;
  }
  if (message.startsWith('Expected required')) return `missing required field "${field}"`;
  const schema = lookup(field);
  const what = schema?.description ? ` (${schema.description})` : '';
  return `field "${field}" is invalid${what}: got ${JSON.stringify(value)?.slice(0, 60)}`;
}

function lookup(field: string): TSchema | undefined {
  let s: TSchema | undefined = ThresholdRuleSchema;
  for (const part of field.split('.')) s = s?.properties?.[part] ?? (s?.items as TSchema | undefined);
  return s;
}

function similar(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x.startsWith(y.slice(0, 4)) || y.startsWith(x.slice(0, 4));
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** Local weekday and minute of the day of `ms` in a time zone. */
function localTime(ms: number, tz: string): { day: string; minuteOfDay: number } {
  if (tz === 'UTC') {
    const d = new Date(ms);
    return { day: DAYS[d.getUTCDay()], minuteOfDay: d.getUTCHours() * 60 + d.getUTCMinutes() };
  }
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(tz, f);
  }
  const parts = Object.fromEntries(f.formatToParts(ms).map((p) => [p.type, p.value]));
  return {
    day: parts.weekday.toLowerCase().slice(0, 3),
    minuteOfDay: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** Whether the rule applies at `ms` (its active hours and days). */
export function ruleActive(rule: ThresholdRule, ms: number): boolean {
  const { day, minuteOfDay } = localTime(ms, rule.timeZone ?? 'UTC');
  if (rule.days && !rule.days.includes(day as (typeof rule.days)[number])) return false;
  if (!rule.between) return true;
  const clock = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  const from = clock(rule.between.from);
  const to = clock(rule.between.to);
  // 22:00–06:00 spans midnight.
  return from < to ? minuteOfDay >= from && minuteOfDay < to : minuteOfDay >= from || minuteOfDay < to;
}

const COMPARE: Record<ThresholdRule['op'], (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

/**
 * The signal of one rule at `end` (end of the last closed minute), or null. The window must be
 * fully covered by the series and the rule active at its end; a ratio with nothing to divide
 * by (no orders for the aov) is no verdict.
 */
export function evaluateThreshold(
  rule: ThresholdRule,
  site: string,
  end: number,
  series: SeriesView,
): Signal | null {
  if (rule.site !== undefined && rule.site !== site) return null;
  if (!ruleActive(rule, end - MINUTE)) return null;
  const value = windowValue(series, rule.metric, end - rule.windowMinutes * MINUTE, end);
  if (value === null || !COMPARE[rule.op](value, rule.value)) return null;
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(4).replace(/0+$/, '');
  return {
    labels: { alertname: 'threshold', site, rule: rule.id, metric: rule.metric },
    severity: rule.severity ?? 'warning',
    summary:
      rule.summary ??
      `${rule.metric} over the last ${rule.windowMinutes} min is ${shown} (rule ${rule.id}: ${rule.op} ${rule.value})`,
    at: end,
    value,
    evidence: { rule: rule.id, windowMinutes: rule.windowMinutes, op: rule.op, threshold: rule.value },
  };
}

/** Evaluation rule name of a threshold rule. */
export const thresholdRuleName = (id: string) => `threshold:${id}`;
