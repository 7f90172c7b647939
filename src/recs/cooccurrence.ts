import type { DuckDBConnection } from '@duckdb/node-api';
import { eachChunk, scalar } from './interactions.js';
import { type CooccurrenceParams, DEFAULT_COOCCURRENCE } from './params.js';

export { type CooccurrenceParams, DEFAULT_COOCCURRENCE };

/**
 * "Customers also viewed / bought": for each item, its top-N neighbours by how often they
 * appear together — in the same session (viewed together) or bought by the same user (bought
 * together) — damped by popularity so best-sellers do not neighbour everything:
 *
 *   score(a, b) = v_ab / (v_a · v_b)^β + buyWeight · b_ab / (b_a · b_b)^β
 *
 * with v_a the sessions that saw a, b_a the users who bought a (β = 0.5 is cosine similarity).
 * DuckDB counts the pairs (spilling to disk when large), so memory stays bounded.
 */

/** Neighbour lists of every item, CSR-style (item i's neighbours are [indptr[i], indptr[i+1])), best first. */
export interface Neighbours {
  indptr: Int32Array;
  indices: Int32Array;
  scores: Float32Array;
  viewed: Int32Array;
  bought: Int32Array;
}

/** Needs the temp tables of loadInteractions (`recs_events`, `items`). */
export async function computeCooccurrence(
  conn: DuckDBConnection,
  nItems: number,
  p: CooccurrenceParams = DEFAULT_COOCCURRENCE,
): Promise<Neighbours> {
  const beta = Number(p.beta);
  await conn.run(`CREATE OR REPLACE TEMP TABLE sv AS
    SELECT DISTINCT e.session AS g, it.i FROM recs_events e JOIN items it USING (product_id)`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE sb AS
    SELECT DISTINCT e.user_key AS g, it.i FROM recs_events e JOIN items it USING (product_id)
     WHERE e.event_type = 'purchase'`);
  for (const t of ['sv', 'sb']) {
    await conn.run(
      `DELETE FROM ${t} WHERE g IN (SELECT g FROM ${t} GROUP BY g HAVING count(*) > ${Number(p.maxBasket)})`,
    );
  }
  await conn.run(`CREATE OR REPLACE TEMP TABLE pairs AS
    WITH pv AS (SELECT a.i AS a, b.i AS b, count(*) AS n FROM sv a JOIN sv b ON a.g = b.g AND a.i <> b.i GROUP BY ALL),
         pb AS (SELECT a.i AS a, b.i AS b, count(*) AS n FROM sb a JOIN sb b ON a.g = b.g AND a.i <> b.i GROUP BY ALL),
         popv AS (SELECT i, count(*) AS n FROM sv GROUP BY i),
         popb AS (SELECT i, count(*) AS n FROM sb GROUP BY i)
    SELECT coalesce(pv.a, pb.a) AS a, coalesce(pv.b, pb.b) AS b,
           coalesce(pv.n, 0)::INTEGER AS viewed, coalesce(pb.n, 0)::INTEGER AS bought,
           (coalesce(pv.n / pow(va.n * vb.n, ${beta}), 0)
             + ${Number(p.buyWeight)} * coalesce(pb.n / pow(ba.n * bb.n, ${beta}), 0))::FLOAT AS score
      FROM pv FULL JOIN pb ON pv.a = pb.a AND pv.b = pb.b
      LEFT JOIN popv va ON va.i = coalesce(pv.a, pb.a) LEFT JOIN popv vb ON vb.i = coalesce(pv.b, pb.b)
      LEFT JOIN popb ba ON ba.i = coalesce(pv.a, pb.a) LEFT JOIN popb bb ON bb.i = coalesce(pv.b, pb.b)
     WHERE coalesce(pv.n, 0) + coalesce(pb.n, 0) >= ${Number(p.minCount)}
    QUALIFY row_number() OVER (PARTITION BY coalesce(pv.a, pb.a) ORDER BY score DESC, coalesce(pv.b, pb.b)) <= ${Number(p.neighbours)}`);
  const n = await scalar(conn, 'SELECT count(*) FROM pairs');
  const out: Neighbours = {
    indptr: new Int32Array(nItems + 1),
    indices: new Int32Array(n),
    scores: new Float32Array(n),
    viewed: new Int32Array(n),
    bought: new Int32Array(n),
  };
  let k = 0;
  await eachChunk(
    conn,
    'SELECT a, b, score, viewed, bought FROM pairs ORDER BY a, score DESC, b',
    (c, rows) => {
      for (let r = 0; r < rows; r++, k++) {
        out.indptr[(c[0][r] as number) + 1]++;
        out.indices[k] = c[1][r] as number;
        out.scores[k] = c[2][r] as number;
        out.viewed[k] = c[3][r] as number;
        out.bought[k] = c[4][r] as number;
      }
    },
  );
  for (let i = 0; i < nItems; i++) out.indptr[i + 1] += out.indptr[i];
  for (const t of ['sv', 'sb', 'pairs']) await conn.run(`DROP TABLE ${t}`);
  return out;
}
