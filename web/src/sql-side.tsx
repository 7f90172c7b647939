import { useState } from 'react';
import { fmtInt } from './format';
import type { CatalogTable, HistoryEntry, SavedQuery } from './sql-api';

export type SideTab = 'saved' | 'history' | 'tables';

const ago = (t: number) => {
  const s = Math.max(0, (Date.now() - t) / 1000);
  return s < 60
    ? 'just now'
    : s < 3600
      ? `${Math.floor(s / 60)} min ago`
      : s < 86400
        ? `${Math.floor(s / 3600)} h ago`
        : new Date(t).toLocaleDateString();
};

function SavedList(props: {
  saved: SavedQuery[];
  openId: string | null;
  onOpen: (q: SavedQuery) => void;
  onShare: (q: SavedQuery, shared: boolean) => void;
  onDelete: (q: SavedQuery) => void;
}) {
  const [confirming, setConfirming] = useState<string | null>(null);
  if (props.saved.length === 0)
    return (
      <p className="muted small">
        No saved queries yet. Save one from the editor; shared ones are seen by the whole team.
      </p>
    );
  return (
    <ul className="sql-list" data-testid="saved-list">
      {props.saved.map((q) => (
        <li key={q.id} className={q.id === props.openId ? 'open' : undefined}>
          <button type="button" className="link" onClick={() => props.onOpen(q)} title={q.sql}>
            {q.name}
          </button>
          <div className="muted small">
            {q.ownerName} {q.shared && <span className="pill">shared</span>}
          </div>
          {q.description && <div className="small">{q.description}</div>}
          {q.editable && (
            <div className="sql-list-actions">
              <label className="small">
                <input
                  type="checkbox"
                  checked={q.shared}
                  onChange={(e) => props.onShare(q, e.target.checked)}
                />{' '}
                Share with the team
              </label>
              {confirming === q.id ? (
                <>
                  <button type="button" className="danger small-btn" onClick={() => props.onDelete(q)}>
                    Delete it
                  </button>
                  <button type="button" className="ghost small-btn" onClick={() => setConfirming(null)}>
                    Keep
                  </button>
                </>
              ) : (
                <button type="button" className="ghost small-btn" onClick={() => setConfirming(q.id)}>
                  Delete…
                </button>
              )}
            </div>
          )}
        </li>
      ))}
    </ul>
  );
}

function HistoryList(props: { entries: HistoryEntry[]; onOpen: (sql: string) => void }) {
  if (props.entries.length === 0)
    return <p className="muted small">Queries you run appear here (your last 100).</p>;
  return (
    <ul className="sql-list" data-testid="history-list">
      {props.entries.map((e) => (
        <li key={e.id}>
          <button type="button" className="link code" onClick={() => props.onOpen(e.sql)} title={e.sql}>
            {e.sql}
          </button>
          <div className="muted small">
            <span className={`pill status-${e.status}`}>{e.status}</span>
            {ago(e.startedAt)} · {e.elapsedMs} ms{e.rows !== null ? ` · ${fmtInt(e.rows)} rows` : ''}
          </div>
          {e.error && (
            <div className="small error clip-line" title={e.error}>
              {e.error}
            </div>
          )}
        </li>
      ))}
    </ul>
  );
}

function TableList(props: { tables: CatalogTable[]; onInsert: (text: string) => void }) {
  return (
    <div data-testid="table-list">
      {props.tables.map((t) => (
        <details key={t.name} open={t.name === 'events'}>
          <summary>
            <button type="button" className="link code" onClick={() => props.onInsert(t.name)}>
              {t.name}
            </button>{' '}
            <span className="muted small">{fmtInt(t.rows)} rows</span>
          </summary>
          <ul className="col-list">
            {t.columns.map((c) => (
              <li key={c.name}>
                <button type="button" className="link code" onClick={() => props.onInsert(c.name)}>
                  {c.name}
                </button>
                <span className="muted small">{c.type}</span>
              </li>
            ))}
          </ul>
        </details>
      ))}
    </div>
  );
}

export function SqlSide(props: {
  tab: SideTab;
  setTab: (t: SideTab) => void;
  canQuery: boolean;
  saved: SavedQuery[];
  openId: string | null;
  history: HistoryEntry[];
  tables: CatalogTable[];
  onOpenSaved: (q: SavedQuery) => void;
  onShare: (q: SavedQuery, shared: boolean) => void;
  onDelete: (q: SavedQuery) => void;
  onOpenSql: (sql: string) => void;
  onInsert: (text: string) => void;
}) {
  const tabs: [SideTab, string][] = [
    ['saved', 'Saved'],
    ...(props.canQuery ? ([['history', 'History']] as [SideTab, string][]) : []),
    ['tables', 'Tables'],
  ];
  return (
    <aside className="card sql-side">
      <div className="seg" role="tablist" aria-label="Queries and tables">
        {tabs.map(([id, text]) => (
          <button
            key={id}
            type="button"
            role="tab"
            aria-selected={props.tab === id}
            className={props.tab === id ? 'on' : 'ghost'}
            onClick={() => props.setTab(id)}
            data-testid={`side-${id}`}
          >
            {text}
          </button>
        ))}
      </div>
      {props.tab === 'saved' && (
        <SavedList
          saved={props.saved}
          openId={props.openId}
          onOpen={props.onOpenSaved}
          onShare={props.onShare}
          onDelete={props.onDelete}
        />
      )}
      {props.tab === 'history' && <HistoryList entries={props.history} onOpen={props.onOpenSql} />}
      {props.tab === 'tables' && <TableList tables={props.tables} onInsert={props.onInsert} />}
    </aside>
  );
}
