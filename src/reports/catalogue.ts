import { brandMarketingReport } from './brand-marketing.js';
import { cartAbandonmentReport } from './cart-abandonment.js';
import { categoryHeatmapReport } from './category-heatmap.js';
import { funnelReport } from './funnel.js';
import { COMMON_PARAMS, describeParam, type ParamDef } from './params.js';
import type { ReportDef } from './report-def.js';
import { revenueReport } from './revenue.js';
import { trafficSourcesReport } from './traffic-sources.js';
import type { ReportInfo } from './types.js';
import { visitorsReport } from './visitors.js';

/** Every report, in the order the dashboard lists them. */
export const REPORTS: readonly ReportDef[] = [
  visitorsReport,
  cartAbandonmentReport,
  categoryHeatmapReport,
  brandMarketingReport,
  funnelReport,
  revenueReport,
  trafficSourcesReport,
];

export const findReport = (id: string): ReportDef | undefined => REPORTS.find((r) => r.id === id);

/** from, to, bots, then the report's own. */
export const paramsOf = (r: ReportDef): ParamDef[] => [...COMMON_PARAMS, ...r.params];

export function describeReport(r: ReportDef, todayMs = Date.now()): ReportInfo {
  return {
    id: r.id,
    title: r.title,
    description: r.description,
    parameters: paramsOf(r).map((d) => describeParam(d, todayMs)),
  };
}
