import type { ParamDef, ParamValues, ReportRange } from './params.js';
import type { ReportColumn, ReportId } from './types.js';

/**
 * One report: what it is, what it takes, and the SQL that answers it over the rollup tables
 * (rollups.ts). The SQL is ours; values reach it only as bound `$name` parameters, and the few
 * pieces of SQL text chosen by a parameter (a grain, a metric) come from fixed maps keyed by
 * an already validated enum.
 */
export interface ReportDef {
  id: ReportId;
  title: string;
  description: string;
  /** Parameters besides from, to and bots. */
  params: ParamDef[];
  /** Needs rollups of every day before `to`, not only the range (e.g. first purchases). */
  history?: boolean;
  build(p: ParamValues, range: ReportRange): ReportQuery;
}

export interface ReportQuery {
  /** May use $site, $from, $to (dates as text), $bots (true = include) and the report's own parameters. */
  sql: string;
  /** Output columns, in the order the SQL selects them. */
  columns: ReportColumn[];
  rule?: string;
}

/** Rows of one site in the range, with or without bots. */
export const inRange = `site_id = $site AND dt >= $from::DATE AND dt < $to::DATE AND ($bots OR NOT is_bot)`;

/** visitor_counts rows of one site in the range, for the bots setting (visitor-days.ts). */
export const visitorsInRange = `site_id = $site AND dt >= $from::DATE AND dt < $to::DATE AND bots = $bots`;

/** Every day of the range, so days without events show as zeros. */
export const daysOfRange = `SELECT range::DATE AS day FROM range($from::DATE, $to::DATE, INTERVAL 1 DAY)`;

/** a / b rounded to 4 places, NULL when b is 0. */
export const ratio = (a: string, b: string) => `round(${a} / nullif(${b}, 0), 4)`;

export const col = (
  name: string,
  label: string,
  type: ReportColumn['type'],
  description?: string,
): ReportColumn => (description ? { name, label, type, description } : { name, label, type });

/** The `limit` parameter of ranked reports. */
export const limitParam = (dflt: number, what: string): ParamDef => ({
  name: 'limit',
  type: 'integer',
  min: 1,
  max: 10_000,
  default: String(dflt),
  description: `at most this many ${what}`,
});

/** Picks SQL text for an enum value; the value was validated against the same keys. */
export function choose<T>(map: Record<string, T>, key: string | number): T {
  const v = map[String(key)];
  if (v === undefined) throw new Error(`bug: no SQL for "${key}"`);
  return v;
}
