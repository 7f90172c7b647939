import { Fragment, type ReactNode, useState } from 'react';
import type { LogHit } from './logs-api';

/** Splits text into plain strings and <mark>s: highlighting never builds HTML from log text. */
export function Highlighted({ text, pattern }: { text: string; pattern: RegExp | null }) {
  if (!pattern || !text) return <>{text}</>;
  const parts: ReactNode[] = [];
  let last = 0;
  for (const m of text.matchAll(new RegExp(pattern.source, pattern.flags))) {
    if (m[0] === '') continue;
    const at = m.index ?? 0;
    if (at > last) parts.push(text.slice(last, at));
    parts.push(<mark key={at}>{m[0]}</mark>);
    last = at + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return <>{parts}</>;
}

const SUMMARY_FIELDS = ['status', 'method', 'path', 'ip', 'bytes'] as const;
const HIDDEN = new Set(['id', 'fields']);

function fieldRows(hit: LogHit): [string, string][] {
  const rows: [string, string][] = [];
  for (const [k, v] of Object.entries(hit)) {
    if (HIDDEN.has(k) || v === null || v === undefined || v === '') continue;
    rows.push([k, String(v)]);
  }
  for (const [k, v] of Object.entries(hit.fields ?? {}))
    rows.push([`fields.${k}`, typeof v === 'string' ? v : JSON.stringify(v)]);
  return rows;
}

function LogRow({
  hit,
  pattern,
  onFilter,
}: {
  hit: LogHit;
  pattern: RegExp | null;
  onFilter: (field: string, value: string, exclude: boolean) => void;
}) {
  const [open, setOpen] = useState(false);
  const bad = typeof hit.status === 'number' && hit.status >= 400;
  return (
    <li className={`logs-row${open ? ' open' : ''}`} data-testid="log-row">
      <button
        type="button"
        className="logs-row-head"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
        data-testid="log-row-toggle"
      >
        <span className="logs-caret" aria-hidden="true">
          {open ? '▾' : '▸'}
        </span>
        <time dateTime={hit.time} className="logs-time">
          {new Date(hit.time).toLocaleString()}
        </time>
        {hit.status != null && <span className={`pill${bad ? ' logs-bad' : ''}`}>{hit.status}</span>}
        {hit.parse_error && <span className="pill logs-bad">unparsed</span>}
        <span className="logs-line">
          <Highlighted text={String(hit.raw ?? hit.message ?? '')} pattern={pattern} />
        </span>
      </button>
      {open && (
        <div className="logs-detail" data-testid="log-detail">
          <p className="small muted">
            {SUMMARY_FIELDS.filter((f) => hit[f] != null)
              .map((f) => `${f}: ${hit[f]}`)
              .join(' · ')}
          </p>
          <table className="logs-fields">
            <tbody>
              {fieldRows(hit).map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>
                    <Highlighted text={v} pattern={pattern} />
                  </td>
                  <td className="logs-field-actions">
                    {!k.startsWith('fields.') && k !== 'raw' && (
                      <Fragment>
                        <button
                          type="button"
                          className="ghost"
                          title={`Filter for ${k}: ${v}`}
                          aria-label={`Filter for ${k} ${v}`}
                          onClick={() => onFilter(k, v, false)}
                        >
                          +
                        </button>
                        <button
                          type="button"
                          className="ghost"
                          title={`Filter out ${k}: ${v}`}
                          aria-label={`Filter out ${k} ${v}`}
                          onClick={() => onFilter(k, v, true)}
                        >
                          −
                        </button>
                      </Fragment>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </li>
  );
}

export function LogResults(props: {
  hits: LogHit[];
  pattern: RegExp | null;
  onFilter: (field: string, value: string, exclude: boolean) => void;
}) {
  if (props.hits.length === 0) return <p className="muted pad">No log lines match.</p>;
  return (
    <ol className="logs-list" data-testid="log-results">
      {props.hits.map((h) => (
        <LogRow key={h.id} hit={h} pattern={props.pattern} onFilter={props.onFilter} />
      ))}
    </ol>
  );
}
