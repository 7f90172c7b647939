import { choose, col, inRange, type ReportDef } from './report-def.js';

const METRIC: Record<string, string> = {
  views: 'views',
  carts: 'carts',
  purchases: 'purchases',
  revenue: 'revenue',
};
const SLOT: Record<string, { expr: string; range: string }> = {
  hour: { expr: 'hour', range: 'range(0, 24)' },
  weekday: { expr: 'isodow(dt)', range: 'range(1, 8)' },
};

/** Report 3: the top categories per hour of day or weekday, every cell present: heatmap data. */
export const categoryHeatmapReport: ReportDef = {
  id: 'category-heatmap',
  title: 'Top categories by hour and weekday',
  description:
    'Views, carts, purchases and revenue of the top categories (by the chosen metric over the range) per hour of ' +
    'day (UTC) or per weekday (1 = Monday). Every category × hour/weekday cell is present, zeros included.',
  params: [
    {
      name: 'by',
      type: 'enum',
      values: ['hour', 'weekday'],
      default: 'hour',
      description: 'columns of the heatmap',
    },
    {
      name: 'metric',
      type: 'enum',
      values: Object.keys(METRIC),
      default: 'views',
      description: 'ranks the categories',
    },
    { name: 'top', type: 'integer', min: 1, max: 100, default: '10', description: 'how many categories' },
  ],
  build(p) {
    const metric = choose(METRIC, p.metric);
    const slot = choose(SLOT, p.by);
    const byWeekday = p.by === 'weekday';
    return {
      sql: `
        WITH c AS (SELECT * FROM category_hours WHERE ${inRange}),
        top AS (
          SELECT category, row_number() OVER (ORDER BY sum(${metric}) DESC, category) AS rank
          FROM c GROUP BY category QUALIFY rank <= $top),
        agg AS (
          SELECT category, ${slot.expr} AS slot, sum(views) AS views, sum(carts) AS carts,
            sum(purchases) AS purchases, sum(revenue) AS revenue
          FROM c WHERE category IN (SELECT category FROM top) GROUP BY ALL)
        SELECT top.category, top.rank, s.range AS ${p.by},
          ${byWeekday ? `['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][s.range] AS weekday_name,` : ''}
          coalesce(agg.views, 0) AS views, coalesce(agg.carts, 0) AS carts,
          coalesce(agg.purchases, 0) AS purchases, coalesce(agg.revenue, 0) AS revenue
        FROM top CROSS JOIN ${slot.range} s LEFT JOIN agg ON agg.category = top.category AND agg.slot = s.range
        ORDER BY top.rank, s.range`,
      columns: [
        col('category', 'Category', 'string'),
        col('rank', 'Rank', 'integer', `1 = most ${p.metric} in the range`),
        byWeekday
          ? col('weekday', 'Weekday', 'integer', '1 = Monday … 7 = Sunday')
          : col('hour', 'Hour (UTC)', 'integer'),
        ...(byWeekday ? [col('weekday_name', 'Weekday name', 'string')] : []),
        col('views', 'Views', 'integer'),
        col('carts', 'Carts', 'integer'),
        col('purchases', 'Purchases', 'integer'),
        col('revenue', 'Revenue', 'money'),
      ],
    };
  },
};
