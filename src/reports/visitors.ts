import { choose, col, inRange, type ReportDef } from './report-def.js';

const PERIOD: Record<string, (c: string) => string> = {
  day: (c) => c,
  week: (c) => `date_trunc('week', ${c})::DATE`,
  month: (c) => `date_trunc('month', ${c})::DATE`,
};

/** Report 1: unique visitors per day, week or month — distinct over each period, not a sum of days. */
export const visitorsReport: ReportDef = {
  id: 'visitors',
  title: 'Unique visitors',
  description:
    'Distinct visitors, sessions, events, page views and product views per day, week (Monday first) or month. ' +
    'Week and month figures count each visitor once per period, not once per day.',
  params: [
    {
      name: 'grain',
      type: 'enum',
      values: ['day', 'week', 'month'],
      default: 'day',
      description: 'one row per day, ISO week or calendar month',
    },
  ],
  build(p) {
    const period = choose(PERIOD, p.grain);
    return {
      // Distinct visitors without a DISTINCT (see rollups.ts): a visitor counts in a period by its
      // first active day in it, the row whose previous active day lies before the period's start
      // (or the range's). Rows are first counted per day and previous day: a few hundred groups.
      sql: `
        WITH m AS (SELECT range::DATE AS dt, ${period('range::DATE')} AS period
          FROM range($from::DATE, $to::DATE, INTERVAL 1 DAY)),
        p AS (SELECT period, min(dt) AS first_day, max(dt) AS last_day, greatest(period, $from::DATE) AS start
          FROM m GROUP BY period),
        vp AS (
          SELECT dt, CASE WHEN $bots THEN any_prev ELSE human_prev END AS prev, count(*) AS n FROM visitor_days
          WHERE site_id = $site AND dt >= $from::DATE AND dt < $to::DATE AND ($bots OR human) GROUP BY ALL),
        v AS (
          SELECT m.period, sum(n) AS visitors FROM vp JOIN m USING (dt) JOIN p USING (period)
          WHERE coalesce(prev, DATE '0001-01-01') < p.start GROUP BY m.period),
        s AS (
          SELECT m.period, sum(sessions) AS sessions, sum(events) AS events, sum(page_views) AS page_views,
            sum(views) AS views
          FROM session_groups JOIN m USING (dt) WHERE ${inRange} GROUP BY m.period)
        SELECT p.period, p.first_day, p.last_day, coalesce(v.visitors, 0) AS visitors,
          coalesce(s.sessions, 0) AS sessions, coalesce(s.events, 0) AS events,
          coalesce(s.page_views, 0) AS page_views, coalesce(s.views, 0) AS views
        FROM p LEFT JOIN v USING (period) LEFT JOIN s USING (period) ORDER BY p.period`,
      columns: [
        col('period', 'Period', 'date', 'first day of the day, week or month (may be before the range)'),
        col('first_day', 'First day', 'date', 'first day of the period inside the range'),
        col('last_day', 'Last day', 'date', 'last day of the period inside the range'),
        col('visitors', 'Visitors', 'integer', 'distinct visitors in the period'),
        col('sessions', 'Sessions', 'integer'),
        col('events', 'Events', 'integer'),
        col('page_views', 'Page views', 'integer'),
        col('views', 'Product views', 'integer'),
      ],
    };
  },
};
