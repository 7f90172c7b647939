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
 * (DuckDB's parquet_schema and parquet_metadata): a few KB per file
 * however big the file is.
 */
export async function readFileFacts(
  conns: [DuckDBConnection, DuckDBConnection],
  paths: string[],
  timeColumns: string[],
): Promise<Map<string, FileFacts>> {
  const out = new Map<string, FileFacts>();
  if (paths.length === 0) return out;
  const files = list(paths);
  const times = timeColumns.map(
    (c, i) =>
      `epoch_ms(max(TRY_CAST(stats_max AS TIMESTAMP)) FILTER (WHERE path_in_schema = ${sqlString(c)})) AS t${i}`,
  );
  // Two footer reads per file, side by side: the schema, and row-group metadata (row counts and
  // statistics; column 0 counts each row group once).
  const [schema, meta] = await Promise.all([
    conns[0].runAndReadAll(
      `SELECT file_name, name, duckdb_type, num_children::VARCHAR, converted_type
       FROM parquet_schema(${files}) ORDER BY file_name, column_id`,
    ),
    conns[1].runAndReadAll(
      `SELECT file_name, sum(row_group_num_rows) FILTER (WHERE column_id = 0)::BIGINT${times.map((t) => `, ${t}`).join('')}
       FROM parquet_metadata(${files}) GROUP BY file_name`,
    ),
  ]);
  const byFile = new Map<string, SchemaRow[]>();
  for (const [file_name, name, duckdb_type, num_children, converted_type] of schema.getRows()) {
    const key = String(file_name);
    const rows = byFile.get(key) ?? [];
    rows.push({
      file_name: key,
      name: String(name),
      duckdb_type: duckdb_type === null ? null : String(duckdb_type),
      num_children: num_children === null ? null : String(num_children),
      converted_type: converted_type === null ? null : String(converted_type),
    });
    byFile.set(key, rows);
  }
  for (const [file, rows] of byFile) {
    // rows[0] is the root; its children are the table's columns. A file without row groups has 0 rows.
    const columns = childrenOf(rows, 0).map((c): [string, string] => [c.name, c.type]);
    out.set(file, { rows: 0, columns, newest: Object.fromEntries(timeColumns.map((c) => [c, null])) });
  }
  for (const [file, rows, ...newest] of meta.getRows()) {
    const facts = out.get(String(file));
    if (!facts) continue;
    facts.rows = Number(rows ?? 0);
    timeColumns.forEach((c, i) => {
      facts.newest[c] = newest[i] === null ? null : Number(newest[i]);
    });
  }
  return out;
}
