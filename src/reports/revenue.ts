import { col, daysOfRange, inRange, type ReportDef, visitorsInRange } from './report-def.js';

/**
 * Report 6: revenue, orders, average order value and new vs returning buyers per day. A buyer
 * is new on the day of their first purchase in the site's whole history (with the same bots
 * setting), so this report rolls up every day before `to`, not only the range.
 */
export const revenueReport: ReportDef = {
  id: 'revenue',
  title: 'Revenue and buyers',
  description:
    'Revenue, orders, average order value, units, and buyers per day, split into new buyers (first purchase ever ' +
    'that day) and returning buyers (bought before).',
  params: [],
  history: true,
  build() {
    return {
      sql: `
        WITH buyers AS (
          SELECT dt AS day, sum(n) AS buyers, coalesce(sum(n) FILTER (WHERE first_buy), 0) AS new_buyers
          FROM visitor_counts WHERE ${visitorsInRange} AND bought GROUP BY dt),
        money AS (
          SELECT dt AS day, sum(revenue) AS revenue, sum(orders) AS orders, sum(units) AS units
          FROM session_groups WHERE ${inRange} GROUP BY dt)
        SELECT d.day, coalesce(revenue, 0) AS revenue, coalesce(orders, 0) AS orders,
          round(revenue / nullif(orders, 0), 2) AS average_order_value, coalesce(units, 0) AS units,
          coalesce(buyers, 0) AS buyers, coalesce(new_buyers, 0) AS new_buyers,
          coalesce(buyers - new_buyers, 0) AS returning_buyers
        FROM (${daysOfRange}) d LEFT JOIN money USING (day) LEFT JOIN buyers USING (day) ORDER BY d.day`,
      columns: [
        col('day', 'Day', 'date'),
        col('revenue', 'Revenue', 'money'),
        col('orders', 'Orders', 'integer'),
        col('average_order_value', 'Average order value', 'money'),
        col('units', 'Units sold', 'integer'),
        col('buyers', 'Buyers', 'integer', 'distinct visitors who purchased'),
        col('new_buyers', 'New buyers', 'integer', 'first purchase ever on this day'),
        col('returning_buyers', 'Returning buyers', 'integer', 'purchased on an earlier day too'),
      ],
    };
  },
};
