import type { LogRecord } from '../log-record.js';
import type { LineContext, LineParser } from '../parse/line-parser.js';

/**
 * The Elasticsearch `_bulk` body: NDJSON of action/source pairs. `index` and `create` carry a
 * document, which becomes a log record (a source line that is not JSON is kept, flagged);
 * `delete` and `update` have no meaning for a log store and are refused per item, as ES does
 * for a bad item, without failing the rest.
 */

export interface BulkItemResult {
  [action: string]: {
    _index: string;
    _id: string;
    status: number;
    result?: string;
    _version?: number;
    _seq_no?: number;
    _primary_term?: number;
    _shards?: { total: number; successful: number; failed: number };
    error?: { type: string; reason: string };
  };
}

export interface BulkParse {
  records: LogRecord[];
  items: BulkItemResult[];
  errors: boolean;
}

export function parseBulk(
  body: string,
  defaultIndex: string | null,
  parser: LineParser,
  ctx: Omit<LineContext, 'source'>,
): BulkParse {
  const lines = body.split('\n');
  const records: LogRecord[] = [];
  const items: BulkItemResult[] = [];
  let errors = false;
  const fail = (action: string, index: string, type: string, reason: string) => {
    errors = true;
    items.push({ [action]: { _index: index, _id: '', status: 400, error: { type, reason } } });
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let action: Record<string, { _index?: string; _id?: string }>;
    try {
      action = JSON.parse(line);
    } catch (err) {
      // Without a readable action the pairing is lost; ES answers 400 for the whole body.
      throw new Error(`line ${i + 1}: malformed action line: ${(err as Error).message}`);
    }
    const name = Object.keys(action)[0];
    const meta = action[name] ?? {};
    const index = meta._index ?? defaultIndex ?? 'logs';
    if (name === 'delete') {
      fail(name, index, 'illegal_argument_exception', 'storepulse keeps logs: delete is not supported');
      continue;
    }
    const source = lines[++i];
    if (source === undefined) {
      fail(name, index, 'action_request_validation_exception', 'the action has no source line');
      continue;
    }
    if (name !== 'index' && name !== 'create') {
      fail(name, index, 'illegal_argument_exception', `storepulse accepts index and create, not ${name}`);
      continue;
    }
    const c = { ...ctx, source: index };
    let doc: unknown;
    let record: LogRecord;
    try {
      doc = JSON.parse(source);
      record = parser.document(doc, c);
    } catch {
      record = parser.line(source, c);
      record.parse_error ??= 'the source line is not JSON';
    }
    records.push(record);
    items.push({
      [name]: {
        _index: index,
        _id: meta._id ?? record.log_id,
        _version: 1,
        result: 'created',
        _shards: { total: 1, successful: 1, failed: 0 },
        _seq_no: items.length,
        _primary_term: 1,
        status: 201,
      },
    });
  }
  return { records, items, errors };
}
