import { choose, col, inRange, limitParam, type ReportDef, ratio } from './report-def.js';

const KEYS: Record<string, string[]> = {
  referrer: ['referrer'],
  utm_source: ['utm_source'],
  campaign: ['utm_source', 'utm_campaign'],
};
const LABELS: Record<string, string> = {
  referrer: 'Landing referrer',
  utm_source: 'UTM source',
  utm_campaign: 'UTM campaign',
};

/** Report 7: sessions by how they arrived (first event's referrer host or UTM tags), with conversion and revenue. */
export const trafficSourcesReport: ReportDef = {
  id: 'traffic-sources',
  title: 'Traffic sources',
  description:
    'Sessions, converting sessions, conversion rate, orders and revenue by landing referrer host, UTM ' +
    "source, or UTM source + campaign (all taken from the session's first event).",
  params: [
    {
      name: 'by',
      type: 'enum',
      values: Object.keys(KEYS),
      default: 'referrer',
      description: 'group sessions by referrer host, utm_source, or utm_source + utm_campaign',
    },
    limitParam(50, 'sources (most sessions first)'),
  ],
  build(p) {
    const keys = choose(KEYS, p.by);
    return {
      sql: `
        SELECT ${keys.join(', ')}, sum(sessions) AS sessions, sum(purchase_sessions) AS converting_sessions,
          ${ratio('sum(purchase_sessions)', 'sum(sessions)')} AS conversion_rate,
          sum(orders) AS orders, sum(revenue) AS revenue
        FROM session_groups WHERE ${inRange}
        GROUP BY ${keys.join(', ')} ORDER BY sessions DESC, ${keys.join(', ')} LIMIT $limit`,
      columns: [
        ...keys.map((k) => col(k, LABELS[k] ?? k, 'string')),
        col('sessions', 'Sessions', 'integer'),
        col('converting_sessions', 'Sessions with a purchase', 'integer'),
        col('conversion_rate', 'Conversion rate', 'ratio'),
        col('orders', 'Orders', 'integer'),
        col('revenue', 'Revenue', 'money'),
      ],
    };
  },
};
