import { useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, Unauthorized } from './api';
import { baseOption, Chart, timeAxis, valueAxis } from './chart';
import {
  type FieldTops,
  type Histogram,
  type LogHit,
  type LogQuery,
  LogQueryFailed,
  logsApi,
} from './logs-api';
import { LogMetricsPanel } from './logs-metrics-panel';
import {
  addFilter,
  highlightPattern,
  highlightTerms,
  loadSaved,
  resolveTime,
  type SavedSearch,
  storeSaved,
  TIME_PRESETS,
  toLocalInput,
} from './logs-query';
import { QueryBar, QueryError } from './logs-query-bar';
import { LogResults } from './logs-results';
import { LogsSidebar } from './logs-sidebar';
import './logs-page.css';

/**
 * Logs (the Kibana Discover part): a query over the per-day full-text index, a histogram of the
 * matches, the newest matches with paging, top field values with click-to-filter, and live tail.
 * q, from and to live in the URL, so a link (from an alert, a chat) opens the same search.
 */

const PAGE_SIZE = 50;
const TAIL_MS = 2000;

interface Applied {
  q: string;
  /** As in the URL: '', `now-15m`… or epoch ms. */
  from: string;
  to: string;
}

const fromUrl = (): Applied => {
  const p = new URLSearchParams(location.search);
  return { q: p.get('q') ?? '', from: p.get('from') ?? '', to: p.get('to') ?? '' };
};

function writeUrl(a: Applied) {
  const p = new URLSearchParams(location.search);
  for (const k of ['q', 'from', 'to'] as const) a[k] ? p.set(k, a[k]) : p.delete(k);
  history.replaceState({}, '', `${location.pathname}?${p}`);
}

export function LogsPage(props: { site: string; theme: string; onUnauthorized: () => void }) {
  const { site, onUnauthorized } = props;
  const [applied, setApplied] = useState<Applied>(fromUrl);
  const [draft, setDraft] = useState(applied.q);
  const [page, setPage] = useState(0);
  const [hits, setHits] = useState<LogHit[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [tookMs, setTookMs] = useState<number | null>(null);
  const [histogram, setHistogram] = useState<Histogram | null>(null);
  const [tops, setTops] = useState<FieldTops | null>(null);
  const [error, setError] = useState<{ q: string; message: string; position: number | null } | null>(null);
  const [loading, setLoading] = useState(false);
  const [live, setLive] = useState(false);
  const [tailed, setTailed] = useState(0);
  const [saved, setSaved] = useState<SavedSearch[]>(loadSaved);
  const [naming, setNaming] = useState<string | null>(null);
  // `now-15m` resolved once per search, so paging and tail use the same window.
  const query = useMemo<LogQuery>(
    () => ({ site, q: applied.q, from: resolveTime(applied.from), to: resolveTime(applied.to) }),
    [site, applied],
  );

  const apply = useCallback((next: Applied) => {
    writeUrl(next);
    setDraft(next.q);
    setPage(0);
    setApplied(next);
  }, []);

  const failed = useCallback(
    (err: unknown, q: string) => {
      if (err instanceof Unauthorized) return onUnauthorized();
      if (err instanceof LogQueryFailed) setError({ q, message: err.message, position: err.position });
      else setError({ q, message: err instanceof ApiError ? err.message : String(err), position: null });
    },
    [onUnauthorized],
  );

  // A new query or range: the list, histogram and field tops together.
  useEffect(() => {
    let stale = false;
    setLoading(true);
    setError(null);
    setTailed(0);
    Promise.all([logsApi.histogram(query), logsApi.fields(query)]).then(
      ([h, f]) => {
        if (stale) return;
        setHistogram(h);
        setTops(f);
      },
      (err) => !stale && failed(err, query.q),
    );
    return () => {
      stale = true;
    };
  }, [query, failed]);

  useEffect(() => {
    let stale = false;
    logsApi.search(query, page, PAGE_SIZE).then(
      (r) => {
        if (stale) return;
        setHits(r.hits);
        setHasMore(r.hasMore);
        setTookMs(r.tookMs);
        setLoading(false);
      },
      (err) => {
        if (stale) return;
        setLoading(false);
        setHits([]);
        setHasMore(false);
        failed(err, query.q);
      },
    );
    return () => {
      stale = true;
    };
  }, [query, page, failed]);

  // Live tail: every 2 s, matches newer than the newest shown go on top (first page, open end only).
  const canTail = applied.to === '' && page === 0 && !error;
  useEffect(() => {
    if (!live || !canTail) return;
    const timer = setInterval(async () => {
      const newest = hits.length > 0 ? Date.parse(hits[0].time) : (query.from ?? Date.now() - 60_000);
      try {
        const r = await logsApi.search({ ...query, from: Math.max(newest, query.from ?? 0) }, 0, 200);
        const known = new Set(hits.map((h) => h.id));
        const fresh = r.hits.filter((h) => !known.has(h.id));
        if (fresh.length === 0) return;
        setHits((cur) => [...fresh, ...cur].slice(0, 500));
        setTailed((n) => n + fresh.length);
      } catch (err) {
        failed(err, query.q);
      }
    }, TAIL_MS);
    return () => clearInterval(timer);
  }, [live, canTail, hits, query, failed]);

  const pattern = useMemo(() => highlightPattern(highlightTerms(applied.q)), [applied.q]);
  const onFilter = useCallback(
    (field: string, value: string, exclude: boolean) =>
      apply({ ...applied, q: addFilter(applied.q, field, value, exclude) }),
    [applied, apply],
  );

  const preset =
    TIME_PRESETS.some((p) => p.id === applied.from) && applied.to === '' ? applied.from : 'custom';
  const total = histogram?.total ?? 0;

  const saveCurrent = (name: string) => {
    const next = [...saved.filter((s) => s.name !== name), { name, ...applied }];
    storeSaved(next);
    setSaved(next);
    setNaming(null);
  };

  return (
    <main className="page logs-page" data-testid="logs-page">
      <div className="logs-top">
        <h1>Logs</h1>
        <QueryBar value={draft} onChange={setDraft} onSubmit={() => apply({ ...applied, q: draft.trim() })} />
        <div className="logs-controls">
          <label>
            <span className="sr-only">Time range</span>
            <select
              value={preset}
              data-testid="logs-range"
              onChange={(e) => {
                const v = e.target.value;
                if (v === 'custom') {
                  const now = Date.now();
                  apply({ ...applied, from: String(now - 3_600_000), to: String(now) });
                } else apply({ ...applied, from: v, to: '' });
              }}
            >
              {TIME_PRESETS.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.label}
                </option>
              ))}
              <option value="custom">Custom…</option>
            </select>
          </label>
          {preset === 'custom' && (
            <>
              <label className="small">
                From{' '}
                <input
                  type="datetime-local"
                  value={toLocalInput(resolveTime(applied.from))}
                  onChange={(e) => apply({ ...applied, from: String(Date.parse(e.target.value) || '') })}
                />
              </label>
              <label className="small">
                To{' '}
                <input
                  type="datetime-local"
                  value={toLocalInput(resolveTime(applied.to))}
                  onChange={(e) => apply({ ...applied, to: String(Date.parse(e.target.value) || '') })}
                />
              </label>
            </>
          )}
          <label
            className="logs-live"
            title={canTail ? 'Poll every 2 s for newer matches' : 'Needs an open end'}
          >
            <input
              type="checkbox"
              checked={live}
              disabled={!canTail}
              onChange={(e) => setLive(e.target.checked)}
              data-testid="logs-live"
            />{' '}
            Live tail
          </label>
          {naming === null ? (
            <button
              type="button"
              className="ghost"
              onClick={() => setNaming(applied.q || 'All logs')}
              data-testid="logs-save"
            >
              Save search
            </button>
          ) : (
            <form
              className="logs-save-form"
              onSubmit={(e) => {
                e.preventDefault();
                if (naming.trim()) saveCurrent(naming.trim());
              }}
            >
              <label className="small">
                Name{' '}
                <input
                  value={naming}
                  onChange={(e) => setNaming(e.target.value)}
                  data-testid="logs-save-name"
                />
              </label>{' '}
              <button type="submit" data-testid="logs-save-confirm">
                Save
              </button>{' '}
              <button type="button" className="ghost" onClick={() => setNaming(null)}>
                Cancel
              </button>
            </form>
          )}
          {saved.length > 0 && (
            <label>
              <span className="sr-only">Saved searches</span>
              <select
                value=""
                data-testid="logs-saved"
                onChange={(e) => {
                  const s = saved.find((x) => x.name === e.target.value);
                  if (s) apply({ q: s.q, from: s.from, to: s.to });
                }}
              >
                <option value="">Saved searches (this browser)…</option>
                {saved.map((s) => (
                  <option key={s.name} value={s.name}>
                    {s.name}
                  </option>
                ))}
              </select>
            </label>
          )}
        </div>
      </div>
      {error && <QueryError {...error} />}
      {!error && (
        <>
          <p className="status-line small muted" aria-live="polite">
            <span data-testid="logs-total">{total.toLocaleString()}</span> matching lines
            {tookMs !== null && ` · page in ${tookMs} ms`}
            {live && canTail && ` · live: ${tailed} new`}
            {loading && ' · loading…'}
          </p>
          <section className="card logs-chart">
            <Chart
              theme={props.theme}
              label={`Matching log lines over time: ${total} in all`}
              testId="logs-histogram"
              summary={`${total} matches in ${histogram?.buckets.length ?? 0} buckets`}
              option={{
                ...baseOption(),
                legend: { show: false },
                grid: { left: 8, right: 12, top: 12, bottom: 8, containLabel: true },
                xAxis: timeAxis(),
                yAxis: valueAxis(),
                series: [
                  {
                    type: 'bar',
                    name: 'Lines',
                    barWidth: '90%',
                    data: (histogram?.buckets ?? []).map((b) => [b.time, b.count]),
                  },
                ],
              }}
            />
          </section>
          <LogMetricsPanel
            site={site}
            from={query.from}
            to={query.to}
            theme={props.theme}
            onUnauthorized={onUnauthorized}
          />
          <div className="logs-body">
            <LogsSidebar tops={tops} total={total} onFilter={onFilter} />
            <section className="logs-main card">
              <LogResults hits={hits} pattern={pattern} onFilter={onFilter} />
              <nav className="logs-pager" aria-label="Result pages">
                <button type="button" disabled={page === 0} onClick={() => setPage((p) => p - 1)}>
                  Newer
                </button>
                <span className="small muted" data-testid="logs-page-number">
                  Page {page + 1}
                </span>
                <button type="button" disabled={!hasMore} onClick={() => setPage((p) => p + 1)}>
                  Older
                </button>
              </nav>
            </section>
          </div>
        </>
      )}
    </main>
  );
}
