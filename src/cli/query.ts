import type { Config } from '../config/schema.js';
import { QueryError, QuerySandbox } from '../query/sandbox.js';
import { formatTable, toCsv } from './table.js';

/** `storepulse query`: the same sandbox as POST /api/v1/query, run locally over the lake. */
export async function runQuery(
  config: Config,
  sql: string,
  o: { format: 'table' | 'csv' | 'json'; maxRows?: number },
): Promise<number> {
  const sandbox = await QuerySandbox.open({
    dataDir: config.dataDir,
    timeoutMs: config.query.timeoutMs,
    maxRows: o.maxRows ?? config.query.maxRows,
    memoryLimit: config.query.memoryLimit,
  });
  try {
    const r = await sandbox.query(sql);
    const columns = r.columns.map((c) => c.name);
    if (o.format === 'json') console.log(JSON.stringify(r.rows));
    else if (o.format === 'csv') console.log(toCsv(r.rows, columns));
    else {
      console.log(formatTable(r.rows, columns));
      console.error(
        `(${r.rows.length} row${r.rows.length === 1 ? '' : 's'}${r.truncated ? ', truncated: raise --max-rows' : ''}, ${r.elapsedMs} ms)`,
      );
    }
    return 0;
  } catch (err) {
    if (err instanceof QueryError) {
      console.error(`storepulse: ${err.message}`);
      return 2;
    }
    throw err;
  } finally {
    sandbox.close();
  }
}
