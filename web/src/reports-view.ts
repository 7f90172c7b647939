import type { ReportId, ReportInfo, ReportParameter } from './reports-api';

/**
 * What the Reports page shows, kept in the address (?report=&from=&to=&bots=&<report parameters>)
 * so a link opens the same view. `from`/`to` are the API's: UTC days, `to` exclusive.
 */
export interface ReportView {
  report: ReportId;
  from: string;
  to: string;
  bots: 'exclude' | 'include';
  /** The report's own parameters, as query-string text. */
  params: Record<string, string>;
}

export const REPORT_IDS: readonly ReportId[] = [
  'visitors',
  'cart-abandonment',
  'category-heatmap',
  'brand-marketing',
  'funnel',
  'revenue',
  'traffic-sources',
];
export const COMMON = new Set(['from', 'to', 'bots']);
const DAY = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const dayMs = (day: string) => Date.parse(`${day}T00:00:00Z`);
export const addDays = (day: string, n: number) => isoDay(dayMs(day) + n * DAY);
export const isDay = (v: string | null): v is string => !!v && DATE.test(v) && isoDay(dayMs(v)) === v;
export const daysIn = (v: Pick<ReportView, 'from' | 'to'>) => Math.round((dayMs(v.to) - dayMs(v.from)) / DAY);

/** Presets end today (UTC) inclusive, as the API's default range does. */
export const PRESETS = [7, 28, 90] as const;
export function lastDays(n: number, now = Date.now()): Pick<ReportView, 'from' | 'to'> {
  const today = isoDay(now);
  return { from: addDays(today, 1 - n), to: addDays(today, 1) };
}

/** The report's own parameters (the date range and bots have their own controls). */
export const ownParameters = (info: ReportInfo | undefined): ReportParameter[] =>
  info?.parameters.filter((p) => !COMMON.has(p.name)) ?? [];

/** The view in the address, with defaults for what is missing or malformed. */
export function viewFromUrl(search = location.search): ReportView {
  const q = new URLSearchParams(search);
  const report = REPORT_IDS.find((id) => id === q.get('report')) ?? 'visitors';
  const from = q.get('from');
  const to = q.get('to');
  const range = isDay(from) && isDay(to) && from < to ? { from, to } : lastDays(28);
  const params: Record<string, string> = {};
  for (const [k, v] of q) if (!COMMON.has(k) && k !== 'report' && k !== 'site') params[k] = v;
  return { report, ...range, bots: q.get('bots') === 'include' ? 'include' : 'exclude', params };
}

/** Keeps only the report's parameters, filling in defaults; values from another report are dropped. */
export function withDefaults(view: ReportView, info: ReportInfo | undefined): ReportView {
  const params: Record<string, string> = {};
  for (const p of ownParameters(info)) params[p.name] = view.params[p.name] ?? p.default;
  return { ...view, params };
}

/** Everything sent to the API, in the order a person reads it. */
export const apiParams = (v: ReportView): Record<string, string> => ({
  from: v.from,
  to: v.to,
  bots: v.bots,
  ...v.params,
});

/** Writes the view into the address (keeping the site), without a new history entry. */
export function writeUrl(view: ReportView, known: ReportInfo[]) {
  const q = new URLSearchParams(location.search);
  const names = new Set(['report', ...COMMON, ...known.flatMap((r) => r.parameters.map((p) => p.name))]);
  for (const k of [...q.keys()]) if (names.has(k)) q.delete(k);
  q.set('report', view.report);
  for (const [k, v] of Object.entries(apiParams(view))) q.set(k, v);
  history.replaceState({}, '', `${location.pathname}?${q}`);
}
