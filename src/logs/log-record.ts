/**
 * The canonical log record: one line of a web or application log, parsed. The lake's `logs`
 * table and the full-text index hold exactly these fields. A line that could not be parsed
 * is still a record: `parse_error` says why, `raw` keeps the line, and it stays searchable.
 */
export interface LogRecord {
  log_id: string;
  /** When the line says it happened (ms since epoch, UTC); the receive time when it does not say. */
  log_time: number;
  received_at: number;
  site_id: string;
  /** Who sent it: a shipper's index name, a file name, `http`, `import`… */
  source: string;
  host: string | null;
  ip: string | null;
  method: string | null;
  path: string | null;
  query: string | null;
  protocol: string | null;
  status: number | null;
  bytes: number | null;
  referrer: string | null;
  user_agent: string | null;
  browser: string | null;
  os: string | null;
  device_type: string | null;
  is_bot: boolean;
  response_time_ms: number | null;
  level: string | null;
  message: string | null;
  product_id: string | null;
  category_id: string | null;
  /** Other parsed fields (JSON object) that have no column of their own. */
  fields: string | null;
  raw: string;
  /** Why the line could not be parsed; null when it was. */
  parse_error: string | null;
}

export const LOG_COLUMNS: [keyof LogRecord, string][] = [
  ['log_id', 'VARCHAR'],
  ['log_time', 'TIMESTAMP'],
  ['received_at', 'TIMESTAMP'],
  ['site_id', 'VARCHAR'],
  ['source', 'VARCHAR'],
  ['host', 'VARCHAR'],
  ['ip', 'VARCHAR'],
  ['method', 'VARCHAR'],
  ['path', 'VARCHAR'],
  ['query', 'VARCHAR'],
  ['protocol', 'VARCHAR'],
  ['status', 'INTEGER'],
  ['bytes', 'BIGINT'],
  ['referrer', 'VARCHAR'],
  ['user_agent', 'VARCHAR'],
  ['browser', 'VARCHAR'],
  ['os', 'VARCHAR'],
  ['device_type', 'VARCHAR'],
  ['is_bot', 'BOOLEAN'],
  ['response_time_ms', 'DOUBLE'],
  ['level', 'VARCHAR'],
  ['message', 'VARCHAR'],
  ['product_id', 'VARCHAR'],
  ['category_id', 'VARCHAR'],
  ['fields', 'VARCHAR'],
  ['raw', 'VARCHAR'],
  ['parse_error', 'VARCHAR'],
];

/** The fields a parser extracts from a line, before enrichment. */
export interface ParsedFields {
  time?: number | null;
  host?: string | null;
  ip?: string | null;
  method?: string | null;
  path?: string | null;
  query?: string | null;
  protocol?: string | null;
  status?: number | null;
  bytes?: number | null;
  referrer?: string | null;
  user_agent?: string | null;
  response_time_ms?: number | null;
  level?: string | null;
  message?: string | null;
  extra?: Record<string, unknown>;
}

/** A parser's outcome: fields, or the reason the line does not fit the format. */
export type ParseOutcome = { ok: true; fields: ParsedFields } | { ok: false; reason: string };
