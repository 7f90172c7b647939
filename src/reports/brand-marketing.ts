import type { ParamValues, ReportRange } from './params.js';
import { col, inRange, limitParam, type ReportDef, ratio } from './report-def.js';

/** The flagging rule in words, with the values in force: the page shows it next to the table. */
export function brandRule(p: ParamValues, range: ReportRange): string {
  const half = Math.floor(range.days / 2);
  const halves =
    half === 0
      ? 'a range of one day has no halves, so no brand is flagged for falling views'
      : `the first ${half} and the last ${half} day(s) of the range${range.days % 2 ? ' (the middle day counts in neither)' : ''}`;
  return (
    `Brands with at least ${p.min_views} product views in the range are checked. ` +
    `"low_conversion": high interest, low conversion — the brand's view→purchase rate is below ${p.conversion_factor} × its category's rate. ` +
    `"falling_views": the brand's views fell by ${p.falling_pct} % or more between the halves of the range and more than its category's views did (halves: ${halves}). ` +
    `A brand's category is the one where it had most views. Change these with min_views, conversion_factor and falling_pct.`
  );
}

/**
 * Report 4: brands that need marketing. Per brand: views, carts, purchases, revenue, the funnel
 * rates, and the views trend (second half of the range vs first) against its category's.
 */
export const brandMarketingReport: ReportDef = {
  id: 'brand-marketing',
  title: 'Brands that need marketing',
  description:
    'Per brand: views, view→cart and cart→purchase rates, revenue, and how its views moved between the first and ' +
    'second half of the range compared with its category. Flags brands with high interest but low conversion and ' +
    'brands whose views are falling; the rule is in the answer and set by the parameters.',
  params: [
    {
      name: 'min_views',
      type: 'integer',
      min: 1,
      max: 1_000_000_000,
      default: '100',
      description: 'only brands with at least this many views are flagged',
    },
    {
      name: 'conversion_factor',
      type: 'number',
      min: 0,
      max: 1,
      default: '0.5',
      description: 'low_conversion: view→purchase rate below this × the category’s rate',
    },
    {
      name: 'falling_pct',
      type: 'number',
      min: 0,
      max: 100,
      default: '20',
      description: 'falling_views: views dropped by at least this many percent (second half vs first)',
    },
    limitParam(200, 'brands'),
  ],
  build(p, range) {
    return {
      sql: `
        WITH b AS (SELECT * FROM brand_categories WHERE ${inRange}),
        h AS (SELECT (($to::DATE - $from::DATE) // 2)::INTEGER AS half),
        halves AS (
          SELECT b.*, dt < $from::DATE + h.half AS in_first, dt >= $to::DATE - h.half AS in_second FROM b, h),
        cat AS (
          SELECT category, sum(views) AS views, sum(purchases) AS purchases,
            coalesce(sum(views) FILTER (WHERE in_first), 0) AS v1, coalesce(sum(views) FILTER (WHERE in_second), 0) AS v2
          FROM halves WHERE category IS NOT NULL GROUP BY category),
        main AS (
          SELECT brand, category FROM (SELECT brand, category, sum(views) AS v FROM b WHERE brand IS NOT NULL GROUP BY ALL)
          QUALIFY row_number() OVER (PARTITION BY brand ORDER BY v DESC, category NULLS LAST) = 1),
        br AS (
          SELECT brand, sum(views) AS views, sum(carts) AS carts, sum(purchases) AS purchases, sum(revenue) AS revenue,
            coalesce(sum(views) FILTER (WHERE in_first), 0) AS v1, coalesce(sum(views) FILTER (WHERE in_second), 0) AS v2
          FROM halves WHERE brand IS NOT NULL GROUP BY brand),
        j AS (
          SELECT br.*, main.category, cat.views AS cat_views, cat.purchases AS cat_purchases,
            (br.v2 - br.v1) / nullif(br.v1, 0) AS change, (cat.v2 - cat.v1) / nullif(cat.v1, 0) AS cat_change
          FROM br JOIN main USING (brand) LEFT JOIN cat ON cat.category = main.category),
        f AS (
          SELECT *,
            views >= $min_views AND cat_views > 0
              AND purchases / views < $conversion_factor * (cat_purchases / cat_views) AS low_conversion,
            views >= $min_views AND change IS NOT NULL AND change <= -$falling_pct / 100
              AND (cat_change IS NULL OR change < cat_change) AS falling_views
          FROM j)
        SELECT brand, category, views, carts, purchases, revenue,
          ${ratio('carts', 'views')} AS view_to_cart, ${ratio('purchases', 'carts')} AS cart_to_purchase,
          ${ratio('purchases', 'views')} AS view_to_purchase, ${ratio('cat_purchases', 'cat_views')} AS category_view_to_purchase,
          v1 AS views_first_half, v2 AS views_second_half, round(change, 4) AS views_change,
          round(cat_change, 4) AS category_views_change,
          concat_ws(',', CASE WHEN low_conversion THEN 'low_conversion' END,
            CASE WHEN falling_views THEN 'falling_views' END) AS flags
        FROM f
        ORDER BY coalesce(low_conversion, false)::INT + coalesce(falling_views, false)::INT DESC, views DESC, brand
        LIMIT $limit`,
      columns: [
        col('brand', 'Brand', 'string'),
        col('category', 'Main category', 'string', 'the category where the brand has most views'),
        col('views', 'Views', 'integer'),
        col('carts', 'Carts', 'integer'),
        col('purchases', 'Purchases', 'integer'),
        col('revenue', 'Revenue', 'money'),
        col('view_to_cart', 'View → cart', 'ratio'),
        col('cart_to_purchase', 'Cart → purchase', 'ratio'),
        col('view_to_purchase', 'View → purchase', 'ratio'),
        col('category_view_to_purchase', 'Category view → purchase', 'ratio'),
        col('views_first_half', 'Views, first half', 'integer'),
        col('views_second_half', 'Views, second half', 'integer'),
        col('views_change', 'Views change', 'ratio', '(second half − first half) / first half'),
        col('category_views_change', 'Category views change', 'ratio'),
        col('flags', 'Flags', 'string', 'low_conversion, falling_views (see the rule)'),
      ],
      rule: brandRule(p, range),
    };
  },
};
