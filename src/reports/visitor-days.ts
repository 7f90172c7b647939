import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * Distinct visitors, buyers and abandoners without a DISTINCT at report time.
 *
 * `visitor_days` has one row per site, visitor and active day, with what the visitor did that
 * day (with and without bot events) and what came before: the previous active day (`any_prev`,
 * and `human_prev` over days with non-bot events) and whether this is their first day with a
 * purchase. A visitor is then counted once in a period [a, b) by the row with a ≤ dt < b and
 * prev < a, and is a new buyer on the day of their first purchase.
 *
 * `visitor_counts` sums those rows per day and per previous day (a few hundred rows a day
 * instead of a hundred thousand), separately for bots=include (`bots` true: all rows, any_prev)
 * and bots=exclude (rows with non-bot events, human_prev); reports read only it.
 *
 * The pointers depend on earlier days, so a changed day marks `rollup_state.dirty_from` in the
 * same transaction, and `fixVisitorDays` recomputes every row from that day on, then the counts.
 */
export const VISITOR_TABLES: Record<string, string> = {
  visitor_days: `site_id VARCHAR, dt DATE, visitor_id VARCHAR, human BOOLEAN, abandoned_human BOOLEAN,
    abandoned_any BOOLEAN, bought_human BOOLEAN, bought_any BOOLEAN, any_prev DATE, human_prev DATE,
    first_buy_any BOOLEAN, first_buy_human BOOLEAN`,
  visitor_counts:
    'site_id VARCHAR, dt DATE, bots BOOLEAN, prev DATE, abandoned BOOLEAN, bought BOOLEAN, first_buy BOOLEAN, n BIGINT',
};

/** The batch's visitor days from its sessions (temp table `sess`); the pointers are filled by fixVisitorDays. */
export const visitorDaysSql = `
  SELECT site_id, dt, visitor_id, bool_or(NOT is_bot), bool_or(NOT is_bot AND carts > 0 AND purchases = 0),
    bool_or(carts > 0 AND purchases = 0), bool_or(NOT is_bot AND purchases > 0), bool_or(purchases > 0),
    NULL, NULL, NULL, NULL
  FROM sess GROUP BY site_id, dt, visitor_id`;

const EARLIER_ROWS = '(w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)';

/** Recomputes visitor_days' pointers and visitor_counts from `rollup_state.dirty_from` on. */
export async function fixVisitorDays(conn: DuckDBConnection): Promise<void> {
  const state = await conn.runAndReadAll("SELECT strftime(dirty_from, '%Y-%m-%d') FROM rollup_state");
  const dirty = state.getRowsJS()[0]?.[0];
  if (dirty === null || dirty === undefined) return;
  const min = String(dirty);
  await conn.run('BEGIN TRANSACTION');
  try {
    await conn.run(
      `CREATE OR REPLACE TEMP TABLE vd AS
      WITH cur AS (SELECT * EXCLUDE (any_prev, human_prev, first_buy_any, first_buy_human)
        FROM visitor_days WHERE dt >= $min::DATE),
      earlier AS (
        SELECT site_id, visitor_id, max(dt) AS last_any, max(dt) FILTER (WHERE human) AS last_human,
          bool_or(bought_any) AS bought_any, bool_or(bought_human) AS bought_human
        FROM visitor_days v SEMI JOIN cur USING (site_id, visitor_id) WHERE v.dt < $min::DATE GROUP BY ALL)
      SELECT c.*, coalesce(lag(c.dt) OVER w, e.last_any) AS any_prev,
        coalesce(max(c.dt) FILTER (WHERE c.human) OVER ${EARLIER_ROWS}, e.last_human) AS human_prev,
        c.bought_any AND NOT coalesce(bool_or(c.bought_any) OVER ${EARLIER_ROWS}, false)
          AND NOT coalesce(e.bought_any, false) AS first_buy_any,
        c.bought_human AND NOT coalesce(bool_or(c.bought_human) OVER ${EARLIER_ROWS}, false)
          AND NOT coalesce(e.bought_human, false) AS first_buy_human
      FROM cur c LEFT JOIN earlier e USING (site_id, visitor_id)
      WINDOW w AS (PARTITION BY c.site_id, c.visitor_id ORDER BY c.dt)`,
      { min },
    );
    await conn.run('DELETE FROM visitor_days WHERE dt >= $min::DATE', { min });
    await conn.run(
      `INSERT INTO visitor_days SELECT site_id, dt, visitor_id, human, abandoned_human, abandoned_any, bought_human,
        bought_any, any_prev, human_prev, first_buy_any, first_buy_human FROM vd`,
    );
    await conn.run('DELETE FROM visitor_counts WHERE dt >= $min::DATE', { min });
    await conn.run(
      `INSERT INTO visitor_counts
        SELECT site_id, dt, true, any_prev, abandoned_any, bought_any, first_buy_any, count(*) FROM vd GROUP BY ALL
        UNION ALL
        SELECT site_id, dt, false, human_prev, abandoned_human, bought_human, first_buy_human, count(*) FROM vd
        WHERE human GROUP BY ALL`,
    );
    await conn.run('UPDATE rollup_state SET dirty_from = NULL');
    await conn.run('COMMIT');
  } catch (err) {
    await conn.run('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await conn.run('DROP TABLE IF EXISTS vd');
  }
}
