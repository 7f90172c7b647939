import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../lake/writer.js';

/** What one Parquet file's footer says, without reading its data pages. */
export interface FileFacts {
  rows: number;
  /** Top-level columns in file order, with DuckDB types. */
  columns: [string, string][];
  /** Newest value of each timestamp column asked for (row-group statistics), as epoch ms. */
  newest: Record<string, number | null>;
}

interface SchemaRow {
  file_name: string;
  name: string;
  duckdb_type: string | null;
  num_children: string | null;
  converted_type: string | null;
}

interface Node {
  name: string;
  type: string;
  next: number;
}

/** Parquet flattens nested types into a pre-order list of groups; this rebuilds DuckDB's type names. */
function parseNode(rows: SchemaRow[], i: number): Node {
  const r = rows[i];
  const n = Number(r.num_children ?? 0);
  if (n === 0) return { name: r.name, type: r.duckdb_type ?? 'UNKNOWN', next: i + 1 };
  const kids: Node[] = [];
  const grand: Node[][] = [];
  let j = i + 1;
  for (let k = 0; k < n; k++) {
    // The repeated group of a LIST or MAP: keep its children too.
    const start = j;
    const kid = parseNode(rows, j);
    kids.push(kid);
    grand.push(childrenOf(rows, start));
    j = kid.next;
  }
  let type: string;
  if (r.converted_type === 'LIST') {
    type = `${(grand[0].length === 1 ? grand[0][0] : kids[0]).type}[]`;
  } else if (r.converted_type === 'MAP' || r.converted_type === 'MAP_KEY_VALUE') {
    const [key, value] = grand[0];
    type = `MAP(${key?.type ?? 'UNKNOWN'}, ${value?.type ?? 'UNKNOWN'})`;
  } else {
    type = `STRUCT(${kids.map((k) => `${k.name} ${k.type}`).join(', ')})`;
  }
  return { name: r.name, type, next: j };
}

function childrenOf(rows: SchemaRow[], i: number): Node[] {
  const n = Number(rows[i].num_children ?? 0);
  const out: Node[] = [];
  let j = i + 1;
  for (let k = 0; k < n; k++) {
    const kid = parseNode(rows, j);
    out.push(kid);
    j = kid.next;
  }
  return out;
}

const list = (paths: string[]) => `[${paths.map(sqlString).join(', ')}]`;

/**
 * Reads row counts, schemas and timestamp maxima of some Parquet files from their footers
 * (DuckDB's parquet_file_metadata, parquet_schema and parquet_metadata): a few KB per file
 * however big the file is.
 */
export async function readFileFacts(
  conn: DuckDBConnection,
  paths: string[],
  timeColumns: string[],
): Promise<Map<string, FileFacts>> {
  const out = new Map<string, FileFacts>();
  if (paths.length === 0) return out;
  const files = list(paths);
  const meta = await conn.runAndReadAll(`SELECT file_name, num_rows FROM parquet_file_metadata(${files})`);
  for (const [file, rows] of meta.getRows()) {
    out.set(String(file), { rows: Number(rows), columns: [], newest: {} });
  }
  const schema = await conn.runAndReadAll(
    `SELECT file_name, name, duckdb_type, num_children::VARCHAR AS num_children, converted_type
     FROM parquet_schema(${files}) ORDER BY file_name, column_id`,
  );
  const byFile = new Map<string, SchemaRow[]>();
  for (const row of schema.getRowObjectsJson() as unknown as SchemaRow[]) {
    const rows = byFile.get(row.file_name) ?? [];
    rows.push(row);
    byFile.set(row.file_name, rows);
  }
  for (const [file, rows] of byFile) {
    const facts = out.get(file);
    if (!facts) continue;
    // rows[0] is the root; its children are the table's columns.
    facts.columns = childrenOf(rows, 0).map((c) => [c.name, c.type]);
  }
  if (timeColumns.length > 0) {
    const stats = await conn.runAndReadAll(
      `SELECT file_name, path_in_schema, epoch_ms(max(TRY_CAST(stats_max AS TIMESTAMP)))
       FROM parquet_metadata(${files})
       WHERE path_in_schema IN (${timeColumns.map(sqlString).join(', ')})
       GROUP BY ALL`,
    );
    for (const [file, column, newest] of stats.getRows()) {
      const facts = out.get(String(file));
      if (facts) facts.newest[String(column)] = newest === null ? null : Number(newest);
    }
  }
  return out;
}
