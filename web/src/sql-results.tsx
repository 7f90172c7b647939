import { useState } from 'react';
import { fmtInt } from './format';
import type { QueryResult } from './sql-api';

/** Rows per page. The server sends the whole result up to its row cap; paging is in the browser. */
export const PAGE_SIZE = 100;

function Cell(props: { value: unknown }) {
  const v = props.value;
  if (v === null || v === undefined) return <td className="null">NULL</td>;
  if (typeof v === 'number') return <td className="num">{String(v)}</td>;
  // Text, lists and structs are shown as text (React escapes it), whatever the lake holds.
  return (
    <td className="clip" title={typeof v === 'string' ? v : JSON.stringify(v)}>
      {typeof v === 'string' ? v : JSON.stringify(v)}
    </td>
  );
}

/** Give each new result a new `key`, so it starts on its first page. */
export function ResultTable(props: { result: QueryResult }) {
  const { columns, rows, truncated } = props.result;
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  const from = page * PAGE_SIZE;
  const shown = rows.slice(from, from + PAGE_SIZE);
  return (
    <div className="sql-results">
      <div className="table-scroll">
        <table data-testid="sql-result-table">
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c.name} title={c.type}>
                  {c.name}
                  <span className="col-type">{c.type}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((r, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity of their own; the page is re-rendered whole
              <tr key={from + i}>
                {columns.map((c) => (
                  <Cell key={c.name} value={r[c.name]} />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="pager" data-testid="sql-pager">
        <button type="button" className="ghost" disabled={page === 0} onClick={() => setPage(page - 1)}>
          ‹ Prev
        </button>
        <span className="muted small">
          {rows.length === 0
            ? 'No rows'
            : `Rows ${fmtInt(from + 1)}–${fmtInt(from + shown.length)} of ${fmtInt(rows.length)}${truncated ? ' (row cap reached: download for all rows)' : ''}`}
        </span>
        <button
          type="button"
          className="ghost"
          disabled={page >= pages - 1}
          onClick={() => setPage(page + 1)}
        >
          Next ›
        </button>
      </div>
    </div>
  );
}
