import { col, daysOfRange, inRange, limitParam, type ReportDef, ratio } from './report-def.js';

const rates = `${ratio('cart_sessions', 'view_sessions')} AS view_to_cart,
  ${ratio('purchase_sessions', 'cart_sessions')} AS cart_to_purchase, ${ratio('purchase_sessions', 'sessions')} AS conversion`;
const counts = [
  'sessions',
  'view_sessions',
  'cart_sessions',
  'purchase_sessions',
  'views',
  'carts',
  'purchases',
  'revenue',
];
const zeroed = counts.map((c) => `coalesce(${c}, 0) AS ${c}`).join(', ');

/** Session-level funnel figures from the per-day session groups, grouped by `key`. */
const fromSessions = (key: string) => `
  SELECT ${key} AS key, ${counts.map((c) => `sum(${c}) AS ${c}`).join(', ')}
  FROM session_groups WHERE ${inRange} GROUP BY 1`;

/** The same from the per-day category / brand rollup (session counts there are per product of the value). */
const fromProducts = (dim: string) => `
  SELECT value AS key, ${counts.map((c) => `sum(${c}) AS ${c}`).join(', ')}
  FROM product_dims WHERE ${inRange} AND dim = '${dim}' GROUP BY 1`;

/** Report 5: view → cart → purchase by day, category, brand, device or landing referrer. */
export const funnelReport: ReportDef = {
  id: 'funnel',
  title: 'Conversion funnel',
  description:
    'Product view → add to cart → purchase, as sessions reaching each step and as event counts, by day, ' +
    'category, brand, device or landing referrer. For category and brand a session counts when it viewed, ' +
    'carted or bought a product of it; for device and referrer a session belongs to its first event’s.',
  params: [
    {
      name: 'dimension',
      type: 'enum',
      values: ['day', 'category', 'brand', 'device', 'referrer'],
      default: 'day',
      description: 'one row per value of this',
    },
    limitParam(50, 'rows for category, brand, device and referrer (most sessions first)'),
  ],
  build(p) {
    const dim = String(p.dimension);
    const metrics = [
      col('sessions', 'Sessions', 'integer'),
      col('view_sessions', 'Sessions with a view', 'integer'),
      col('cart_sessions', 'Sessions with a cart', 'integer'),
      col('purchase_sessions', 'Sessions with a purchase', 'integer'),
      col('views', 'Views', 'integer'),
      col('carts', 'Carts', 'integer'),
      col('purchases', 'Purchases', 'integer'),
      col('revenue', 'Revenue', 'money'),
      col('view_to_cart', 'View → cart', 'ratio', 'sessions with a cart / sessions with a view'),
      col('cart_to_purchase', 'Cart → purchase', 'ratio', 'sessions with a purchase / sessions with a cart'),
      col('conversion', 'Conversion', 'ratio', 'sessions with a purchase / sessions'),
    ];
    if (dim === 'day') {
      return {
        sql: `SELECT d.day, ${zeroed}, ${rates}
          FROM (${daysOfRange}) d LEFT JOIN (${fromSessions('dt')}) x ON x.key = d.day ORDER BY d.day`,
        columns: [col('day', 'Day', 'date'), ...metrics],
      };
    }
    const source = dim === 'device' || dim === 'referrer' ? fromSessions(dim) : fromProducts(dim);
    const label = { category: 'Category', brand: 'Brand', device: 'Device', referrer: 'Landing referrer' }[
      dim
    ];
    return {
      sql: `SELECT key AS ${dim}, ${zeroed}, ${rates} FROM (${source})
        ORDER BY sessions DESC, ${dim} NULLS LAST LIMIT $limit`,
      columns: [col(dim, label ?? dim, 'string'), ...metrics],
    };
  },
};
