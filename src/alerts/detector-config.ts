import { type Static, Type as T, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DEFAULT_ERRORS } from './detectors/error-rate.js';
import { DEFAULT_ORDER_RATE, SENSITIVITY } from './detectors/order-rate.js';
import { type Parsed, parseThresholdRules } from './detectors/threshold.js';
import { DEFAULT_TRAFFIC } from './detectors/traffic.js';
import { DEFAULT_SETTINGS, type DetectorSettings } from './site-detection.js';

/**
 * Per-site detector settings as data: overrides of the defaults, validated with errors that
 * name the field. For example
 *   {"orderRate": {"direction": "drop", "sensitivity": "high", "metrics": ["orders", "revenue"]},
 *    "traffic": {"ipPer60s": 1200}, "errors": false,
 *    "thresholds": [{"id": "no-sales", "metric": "purchases", "windowMinutes": 5, "op": "<", "value": 1}]}
 * `false` turns a detector off for the site.
 */

const Positive = (description: string) => T.Number({ exclusiveMinimum: 0, description });
const Count = (description: string) => T.Integer({ minimum: 1, description });

const OrderRate = T.Object(
  {
    metrics: T.Optional(
      T.Array(
        T.Union([T.Literal('orders'), T.Literal('revenue'), T.Literal('aov'), T.Literal('conversion')]),
        {
          minItems: 1,
          description: 'any of orders, revenue, aov, conversion',
        },
      ),
    ),
    direction: T.Optional(
      T.Union([T.Literal('drop'), T.Literal('spike'), T.Literal('both')], {
        description: 'drop, spike or both',
      }),
    ),
    sensitivity: T.Optional(
      T.Union(
        [T.Literal('low'), T.Literal('medium'), T.Literal('high'), T.Number({ minimum: 2, maximum: 12 })],
        {
          description: 'low, medium, high, or standard deviations (2–12)',
        },
      ),
    ),
    windows: T.Optional(
      T.Array(T.Integer({ minimum: 1, maximum: 240 }), {
        minItems: 1,
        description: 'window lengths in minutes',
      }),
    ),
    minChange: T.Optional(T.Number({ minimum: 0, maximum: 1, description: 'least relative change, 0–1' })),
    minExpectedOrders: T.Optional(Positive('no verdict below this many expected orders in a window')),
  },
  { additionalProperties: false },
);

const Traffic = T.Object(
  {
    ipPer10s: T.Optional(Count('requests one IP may send in 10 s')),
    ipPer60s: T.Optional(Count('requests one IP may send in 60 s')),
    networkPer10s: T.Optional(Count('requests one /24 may send in 10 s')),
    networkPer60s: T.Optional(Count('requests one /24 may send in 60 s')),
    sessionsPerIp60s: T.Optional(Count('sessions one IP may use in 60 s')),
    sessionPer10s: T.Optional(Count('requests one session may send in 10 s')),
    scraperPer60s: T.Optional(Count('bot requests a minute that list an IP as a scraper')),
    goodBots: T.Optional(
      T.Array(T.String({ minLength: 1 }), { description: 'welcome crawler user-agent substrings' }),
    ),
  },
  { additionalProperties: false },
);

export const DetectorConfigSchema = T.Object(
  {
    orderRate: T.Optional(T.Union([OrderRate, T.Literal(false)])),
    traffic: T.Optional(T.Union([Traffic, T.Literal(false)])),
    errors: T.Optional(T.Literal(false, { description: 'false turns the error-rate rules off' })),
    thresholds: T.Optional(T.Array(T.Unknown(), { description: 'threshold rules (see threshold.ts)' })),
  },
  { additionalProperties: false },
);

export type DetectorConfig = Static<typeof DetectorConfigSchema>;

/** The top level alone: each section is checked with its own schema. */
const Top = T.Object(
  {
    orderRate: T.Optional(T.Unknown()),
    traffic: T.Optional(T.Unknown()),
    errors: T.Optional(T.Literal(false, { description: 'false turns the error-rate rules off' })),
    thresholds: T.Optional(T.Array(T.Unknown(), { description: 'a list of threshold rules' })),
  },
  { additionalProperties: false },
);

/** Validates one site's overrides and merges them into the defaults. */
export function parseDetectorConfig(input: unknown, where = 'detector settings'): Parsed<DetectorSettings> {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { ok: false, errors: [`${where} must be a JSON object`] };
  const errors: string[] = [];
  const check = (schema: TSchema, value: unknown, prefix: string) => {
    const seen = new Set<string>();
    for (const e of Value.Errors(schema, value)) {
      const field = prefix + e.path.replace(/^\//, '').replaceAll('/', '.');
      if (seen.has(field)) continue;
      seen.add(field);
      errors.push(`${where}: ${explain(schema, prefix, field, e.message, e.value)}`);
    }
  };
  const raw = input as Record<string, unknown>;
  check(Top, raw, '');
  // Sections are an object of overrides or false: checked one by one, so errors name the inner field.
  for (const [key, schema] of [
    ['orderRate', OrderRate],
    ['traffic', Traffic],
  ] as const)
    if (raw[key] !== undefined && raw[key] !== false) check(schema, raw[key], `${key}.`);
  const c = input as DetectorConfig;
  let thresholds: DetectorSettings['thresholds'] = [];
  if (c.thresholds !== undefined) {
    const parsed = parseThresholdRules(c.thresholds);
    if (parsed.ok) thresholds = parsed.value;
    else errors.push(...parsed.errors.map((m) => `${where}: ${m}`));
  }
  if (errors.length > 0) return { ok: false, errors };
  const o = c.orderRate;
  return {
    ok: true,
    value: {
      orderRate:
        o === false
          ? null
          : {
              ...DEFAULT_ORDER_RATE,
              ...(o?.metrics ? { metrics: o.metrics } : {}),
              ...(o?.direction ? { direction: o.direction } : {}),
              ...(o?.windows ? { windows: o.windows } : {}),
              ...(o?.minChange !== undefined ? { minChange: o.minChange } : {}),
              ...(o?.minExpectedOrders !== undefined ? { minExpectedOrders: o.minExpectedOrders } : {}),
              ...(o?.sensitivity !== undefined
                ? { z: typeof o.sensitivity === 'number' ? o.sensitivity : SENSITIVITY[o.sensitivity] }
                : {}),
            },
      traffic: c.traffic === false ? null : { ...DEFAULT_TRAFFIC, ...c.traffic },
      errors: c.errors === false ? null : DEFAULT_ERRORS,
      thresholds,
    },
  };
}

/** Settings per site from a map of overrides (`*` applies to every site without its own). */
export function settingsBySite(config: Record<string, unknown>): Parsed<(site: string) => DetectorSettings> {
  const errors: string[] = [];
  const bySite = new Map<string, DetectorSettings>();
  for (const [site, raw] of Object.entries(config)) {
    const parsed = parseDetectorConfig(raw, `detector settings of site "${site}"`);
    if (parsed.ok) bySite.set(site, parsed.value);
    else errors.push(...parsed.errors);
  }
  if (errors.length > 0) return { ok: false, errors };
  const fallback = bySite.get('*') ?? DEFAULT_SETTINGS;
  return { ok: true, value: (site) => bySite.get(site) ?? fallback };
}

function explain(schema: TSchema, prefix: string, field: string, message: string, value: unknown): string {
  if (message.includes('Unexpected property')) return `unknown field "${field}"`;
  if (message.startsWith('Expected required')) return `missing required field "${field}"`;
  const inner = lookup(schema, field.slice(prefix.length));
  const what = inner?.description ? ` (${inner.description})` : '';
  return `field "${field}" is invalid${what}: got ${JSON.stringify(value)?.slice(0, 60)}`;
}

function lookup(schema: TSchema, field: string): TSchema | undefined {
  let s: TSchema | undefined = schema;
  for (const part of field.split('.'))
    s = s?.properties?.[part] ?? (/^\d+$/.test(part) ? s?.items : undefined);
  return s;
}
