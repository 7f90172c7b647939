import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import { Unauthorized } from './api';
import type { Session } from './api-types';
import { fmtInt } from './format';
import {
  type CatalogTable,
  type HistoryEntry,
  newQueryId,
  QueryFailed,
  type QueryResult,
  type SavedQuery,
  saveFile,
  sqlApi,
} from './sql-api';
import { type ChartKind, chartKinds, ResultChart } from './sql-chart';
import { ResultTable } from './sql-results';
import { type SideTab, SqlSide } from './sql-side';
import { messageOf } from './use-api-action';
import './sql-page.css';

// CodeMirror is most of this page's code: the other pages do not load it.
const SqlEditor = lazy(() => import('./sql-editor').then((m) => ({ default: m.SqlEditor })));

const DRAFT_KEY = 'storepulse.sql.draft';
const EXAMPLE = `SELECT date_trunc('hour', event_time) AS hour, event_type, count(*) AS events
FROM events
WHERE event_time > now() - INTERVAL 1 DAY
GROUP BY ALL
ORDER BY 1`;

interface Running {
  queryId: string;
  startedAt: number;
  cancelling: boolean;
}

/** Ticks while a query runs, so the elapsed time moves. */
function useElapsed(running: Running | null): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(t);
  }, [running]);
  return running ? Math.max(0, now - running.startedAt) : 0;
}

export function SqlPage(props: { session: Session; theme: string; onUnauthorized: () => void }) {
  const { session } = props;
  const csrf = session.csrfToken;
  const canQuery = session.permissions.query;
  const [text, setText] = useState(() => localStorage.getItem(DRAFT_KEY) ?? EXAMPLE);
  const [running, setRunning] = useState<Running | null>(null);
  const [result, setResult] = useState<QueryResult | null>(null);
  const [failure, setFailure] = useState<{ message: string; code: string } | null>(null);
  const [view, setView] = useState<'table' | 'chart'>('table');
  const [kind, setKind] = useState<ChartKind | null>(null);
  const [tab, setTab] = useState<SideTab>('saved');
  const [saved, setSaved] = useState<SavedQuery[]>([]);
  const [history, setHistory] = useState<HistoryEntry[]>([]);
  const [tables, setTables] = useState<CatalogTable[]>([]);
  const [open, setOpen] = useState<SavedQuery | null>(null);
  const [saving, setSaving] = useState<{ name: string; description: string; shared: boolean } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  /** Counts results, so the table of a new one starts on its first page. */
  const [runs, setRuns] = useState(0);
  const [downloading, setDownloading] = useState<string | null>(null);
  const insertRef = useRef<((text: string) => void) | null>(null);
  const elapsed = useElapsed(running);
  const signedOut = useRef(props.onUnauthorized);
  signedOut.current = props.onUnauthorized;

  /** Shows a refusal inline; a session that ended goes back to the login page. */
  const report = useCallback((err: unknown) => {
    if (err instanceof Unauthorized) signedOut.current();
    else setNotice(messageOf(err));
  }, []);

  const refreshSaved = useCallback(() => sqlApi.saved().then(setSaved, report), [report]);
  const refreshHistory = useCallback(() => {
    if (canQuery) sqlApi.history().then(setHistory, report);
  }, [canQuery, report]);

  useEffect(() => {
    refreshSaved();
    refreshHistory();
    sqlApi.catalog().then((c) => setTables(c.tables), report);
  }, [refreshSaved, refreshHistory, report]);

  useEffect(() => localStorage.setItem(DRAFT_KEY, text), [text]);

  const run = useCallback(async () => {
    if (!canQuery || running || text.trim() === '') return;
    const queryId = newQueryId();
    setRunning({ queryId, startedAt: Date.now(), cancelling: false });
    setFailure(null);
    setNotice(null);
    try {
      const r = await sqlApi.run(text, queryId, csrf);
      setResult(r);
      setRuns((n) => n + 1);
      const kinds = chartKinds(r.columns, r.rows.length);
      setKind(kinds[0] ?? null);
      if (kinds.length === 0) setView('table');
    } catch (err) {
      if (err instanceof Unauthorized) signedOut.current();
      else {
        setFailure({ message: messageOf(err), code: err instanceof QueryFailed ? err.code : 'error' });
        // The previous result would look like this query's.
        setResult(null);
      }
    } finally {
      setRunning(null);
      refreshHistory();
    }
  }, [canQuery, running, text, csrf, refreshHistory]);

  const cancel = async () => {
    if (!running) return;
    setRunning({ ...running, cancelling: true });
    // The run request itself answers with the "cancelled" message.
    await sqlApi.cancel(running.queryId, csrf).catch(report);
  };

  const download = async (format: 'csv' | 'parquet') => {
    setDownloading(format);
    setNotice(null);
    try {
      const d = await sqlApi.download(text, format, csrf);
      saveFile(d);
      setNotice(
        `Downloaded ${fmtInt(d.rows)} rows as ${format.toUpperCase()}${d.limitReached ? ' (the download limit was reached)' : ''}.`,
      );
    } catch (err) {
      report(err);
    } finally {
      setDownloading(null);
    }
  };

  const save = async (asNew: boolean) => {
    if (!saving) return;
    try {
      const body = { name: saving.name, description: saving.description, shared: saving.shared, sql: text };
      const q =
        open && !asNew && open.editable
          ? await sqlApi.update(open.id, body, csrf)
          : await sqlApi.save(body, csrf);
      setOpen(q);
      setSaving(null);
      setNotice(`Saved “${q.name}”${q.shared ? ', shared with the team' : ''}.`);
      setTab('saved');
      refreshSaved();
    } catch (err) {
      report(err);
    }
  };

  const kinds = result ? chartKinds(result.columns, result.rows.length) : [];
  return (
    <main className="page sql-page" data-testid="sql-page">
      <div className="sql-layout">
        <div className="sql-col">
          <section className="card sql-main">
            <div className="sql-title">
              <h2>{open ? open.name : 'SQL over the lake'}</h2>
              {open && (
                <span className="muted small">
                  by {open.ownerName}
                  {open.shared ? ' · shared' : ''}
                  {text !== open.sql ? ' · edited' : ''}
                </span>
              )}
            </div>
            <Suspense fallback={<div className="sql-editor muted small">Loading the editor…</div>}>
              <SqlEditor value={text} onChange={setText} onRun={run} tables={tables} insertRef={insertRef} />
            </Suspense>
            <div className="sql-toolbar">
              {canQuery ? (
                <>
                  <button
                    type="button"
                    onClick={run}
                    disabled={!!running || text.trim() === ''}
                    data-testid="sql-run"
                    title="Ctrl+Enter"
                  >
                    Run
                  </button>
                  {running && (
                    <button
                      type="button"
                      className="danger"
                      onClick={cancel}
                      disabled={running.cancelling}
                      data-testid="sql-cancel"
                    >
                      {running.cancelling ? 'Cancelling…' : 'Cancel'}
                    </button>
                  )}
                  <span className="muted small" data-testid="sql-status" aria-live="polite">
                    {running
                      ? `Running… ${(elapsed / 1000).toFixed(1)} s`
                      : result && !failure
                        ? `${fmtInt(result.rows.length)} rows in ${result.elapsedMs} ms`
                        : 'Ctrl+Enter runs'}
                  </span>
                  <span className="spacer" />
                  <button
                    type="button"
                    className="ghost"
                    disabled={!!downloading || text.trim() === ''}
                    onClick={() => download('csv')}
                    data-testid="download-csv"
                  >
                    {downloading === 'csv' ? 'Preparing…' : 'CSV'}
                  </button>
                  <button
                    type="button"
                    className="ghost"
                    disabled={!!downloading || text.trim() === ''}
                    onClick={() => download('parquet')}
                    data-testid="download-parquet"
                  >
                    {downloading === 'parquet' ? 'Preparing…' : 'Parquet'}
                  </button>
                  <button
                    type="button"
                    className="ghost"
                    onClick={() =>
                      setSaving({
                        name: open?.name ?? '',
                        description: open?.description ?? '',
                        shared: open?.shared ?? false,
                      })
                    }
                    data-testid="sql-save"
                  >
                    Save…
                  </button>
                </>
              ) : (
                <span className="muted small">
                  Running SQL needs the analyst role; you can read the team's shared queries.
                </span>
              )}
            </div>
            {saving && (
              <form
                className="sql-save-form"
                data-testid="save-form"
                onSubmit={(e) => {
                  e.preventDefault();
                  save(false);
                }}
              >
                <label>
                  Name
                  <input
                    value={saving.name}
                    onChange={(e) => setSaving({ ...saving, name: e.target.value })}
                    required
                    maxLength={200}
                  />
                </label>
                <label>
                  Description
                  <input
                    value={saving.description}
                    onChange={(e) => setSaving({ ...saving, description: e.target.value })}
                    maxLength={2000}
                  />
                </label>
                <label className="inline">
                  <input
                    type="checkbox"
                    checked={saving.shared}
                    onChange={(e) => setSaving({ ...saving, shared: e.target.checked })}
                  />{' '}
                  Share with the team
                </label>
                <div className="sql-toolbar">
                  <button type="submit">{open?.editable ? 'Update' : 'Save'}</button>
                  {open?.editable && (
                    <button type="button" className="ghost" onClick={() => save(true)}>
                      Save as new
                    </button>
                  )}
                  <button type="button" className="ghost" onClick={() => setSaving(null)}>
                    Close
                  </button>
                </div>
              </form>
            )}
            {notice && (
              <p className="small" role="status" data-testid="sql-notice">
                {notice}
              </p>
            )}
            {failure && (
              <p className={`sql-failure ${failure.code}`} role="alert" data-testid="sql-error">
                {failure.message}
              </p>
            )}
          </section>

          {result && (
            <section className="card sql-output" data-testid="sql-output">
              <div className="sql-output-head">
                <div className="seg" role="tablist" aria-label="Result view">
                  <button
                    type="button"
                    role="tab"
                    aria-selected={view === 'table'}
                    className={view === 'table' ? 'on' : 'ghost'}
                    onClick={() => setView('table')}
                  >
                    Table
                  </button>
                  <button
                    type="button"
                    role="tab"
                    aria-selected={view === 'chart'}
                    className={view === 'chart' ? 'on' : 'ghost'}
                    onClick={() => setView('chart')}
                    disabled={kinds.length === 0}
                    title={
                      kinds.length === 0
                        ? 'A chart needs a first column to plot against and a numeric column'
                        : undefined
                    }
                    data-testid="sql-chart-button"
                  >
                    Chart
                  </button>
                </div>
                {view === 'chart' && kinds.length > 1 && (
                  <fieldset className="seg">
                    <legend className="sr-only">Chart type</legend>
                    {kinds.map((k) => (
                      <button
                        key={k}
                        type="button"
                        className={kind === k ? 'on' : 'ghost'}
                        onClick={() => setKind(k)}
                        data-testid={`chart-kind-${k}`}
                      >
                        {k}
                      </button>
                    ))}
                  </fieldset>
                )}
              </div>
              {view === 'chart' && kind && kinds.includes(kind) ? (
                <ResultChart kind={kind} columns={result.columns} rows={result.rows} theme={props.theme} />
              ) : (
                <ResultTable key={runs} result={result} />
              )}
            </section>
          )}
        </div>
        <SqlSide
          tab={tab}
          setTab={setTab}
          canQuery={canQuery}
          saved={saved}
          openId={open?.id ?? null}
          history={history}
          tables={tables}
          onOpenSaved={(q) => {
            setOpen(q);
            setText(q.sql);
          }}
          onShare={(q, shared) =>
            sqlApi.update(q.id, { shared }, csrf).then((u) => {
              if (open?.id === u.id) setOpen(u);
              refreshSaved();
            }, report)
          }
          onDelete={(q) =>
            sqlApi.remove(q.id, csrf).then(() => {
              if (open?.id === q.id) setOpen(null);
              refreshSaved();
            }, report)
          }
          onOpenSql={(sql) => {
            setOpen(null);
            setText(sql);
          }}
          onInsert={(t) => insertRef.current?.(t)}
        />
      </div>
    </main>
  );
}
