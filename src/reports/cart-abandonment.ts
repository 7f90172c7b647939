import {
  col,
  daysOfRange,
  inRange,
  limitParam,
  type ReportDef,
  ratio,
  visitorsInRange,
} from './report-def.js';

/**
 * Report 2: sessions that added to cart and did not purchase. `by=day` gives the rate over
 * time; `by=product` / `by=brand` what was left behind and its value.
 */
export const cartAbandonmentReport: ReportDef = {
  id: 'cart-abandonment',
  title: 'Cart abandonment',
  description:
    'Sessions that added a product to the cart but did not purchase in the same session: per day (count, rate, ' +
    'visitors, value left), or the products and brands most often left in carts. Value left = units added minus ' +
    'units removed, at the product’s cart price.',
  params: [
    {
      name: 'by',
      type: 'enum',
      values: ['day', 'product', 'brand'],
      default: 'day',
      description: 'rate over time, or what was left in carts',
    },
    limitParam(50, 'products or brands (by=product|brand)'),
  ],
  build(p) {
    const left = [
      col(
        'abandoned_sessions',
        'Abandoned sessions',
        'integer',
        'abandoned sessions that left it in the cart',
      ),
      col('units_left', 'Units left', 'integer'),
      col('value_left', 'Value left', 'money'),
    ];
    if (p.by === 'day') {
      return {
        sql: `
          WITH x AS (
            SELECT dt AS day, sum(cart_sessions) AS cart_sessions, sum(abandoned_sessions) AS abandoned_sessions,
              sum(value_left) AS value_left
            FROM session_groups WHERE ${inRange} GROUP BY dt),
          y AS (
            SELECT dt AS day, sum(n) AS abandoning_visitors FROM visitor_counts
            WHERE ${visitorsInRange} AND abandoned GROUP BY dt)
          SELECT d.day, coalesce(cart_sessions, 0) AS cart_sessions, coalesce(abandoned_sessions, 0) AS abandoned_sessions,
            ${ratio('abandoned_sessions', 'cart_sessions')} AS abandonment_rate,
            coalesce(abandoning_visitors, 0) AS abandoning_visitors, coalesce(value_left, 0) AS value_left
          FROM (${daysOfRange}) d LEFT JOIN x USING (day) LEFT JOIN y USING (day) ORDER BY d.day`,
        columns: [
          col('day', 'Day', 'date'),
          col('cart_sessions', 'Sessions with a cart', 'integer'),
          col(
            'abandoned_sessions',
            'Abandoned sessions',
            'integer',
            'added to cart, no purchase in the session',
          ),
          col('abandonment_rate', 'Abandonment rate', 'ratio', 'abandoned / sessions with a cart'),
          col('abandoning_visitors', 'Visitors who abandoned', 'integer', 'distinct visitors that day'),
          col('value_left', 'Value left in carts', 'money'),
        ],
      };
    }
    if (p.by === 'product') {
      return {
        sql: `
          SELECT value AS product_id, max(brand) AS brand, max(category) AS category,
            sum(sessions) AS abandoned_sessions, sum(units) AS units_left, sum(value_left) AS value_left
          FROM abandoned WHERE ${inRange} AND dim = 'product'
          GROUP BY value ORDER BY abandoned_sessions DESC, value_left DESC, product_id LIMIT $limit`,
        columns: [
          col('product_id', 'Product', 'string'),
          col('brand', 'Brand', 'string'),
          col('category', 'Category', 'string'),
          ...left,
        ],
      };
    }
    return {
      sql: `
        SELECT value AS brand, sum(sessions) AS abandoned_sessions, sum(units) AS units_left, sum(value_left) AS value_left
        FROM abandoned WHERE ${inRange} AND dim = 'brand'
        GROUP BY value ORDER BY abandoned_sessions DESC, value_left DESC, brand NULLS LAST LIMIT $limit`,
      columns: [col('brand', 'Brand', 'string'), ...left],
    };
  },
};
