import { useEffect, useState } from 'react';
import { Unauthorized } from './api';
import type { Session } from './api-types';
import {
  type ReportAnswer,
  ReportApiError,
  type ReportId,
  type ReportInfo,
  reportQuery,
  reportsApi,
} from './reports-api';
import { ReportCharts } from './reports-charts';
import { BotsToggle, DateRange, ParamField } from './reports-controls';
import { ScheduleButton } from './reports-schedule';
import { ResultTable } from './reports-table';
import { messageOf } from './use-api-action';
import './reports-page.css';
import {
  addDays,
  apiParams,
  ownParameters,
  type ReportView,
  viewFromUrl,
  withDefaults,
  writeUrl,
} from './reports-view';

interface Props {
  site: string;
  session: Session;
  theme: string;
  onUnauthorized: () => void;
}

interface Failure {
  message: string;
  parameter?: string;
}

const RETRY_MS = 10_000;
// Positions, not amounts: a heatmap row's rank, hour and weekday are not data.
const SLOTS = new Set(['rank', 'hour', 'weekday']);
/** No row has anything to count (the API fills empty days with zeros). */
const isEmpty = (a: ReportAnswer) =>
  !a.rows.some((r) =>
    a.columns.some(
      (c) =>
        (c.type === 'integer' || c.type === 'number' || c.type === 'money') &&
        !SLOTS.has(c.name) &&
        typeof r[c.name] === 'number' &&
        r[c.name] !== 0,
    ),
  );

/**
 * Store reports (issue 4): seven documented, parameterised reports over the lake, each with a
 * chart, a table, CSV export and a schedule. The view lives in the address, so a link shows it again.
 */
export function ReportsPage({ site, session, theme, onUnauthorized }: Props) {
  const [reports, setReports] = useState<ReportInfo[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [view, setView] = useState<ReportView>(() => viewFromUrl());
  const [answer, setAnswer] = useState<ReportAnswer | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const [loading, setLoading] = useState(false);
  const info = reports?.find((r) => r.id === view.report);

  useEffect(() => {
    const ctl = new AbortController();
    setListError(null);
    reportsApi.list(site, ctl.signal).then(
      (r) => {
        setReports(r.reports);
        setView((v) =>
          withDefaults(
            v,
            r.reports.find((x) => x.id === v.report),
          ),
        );
      },
      (err) => {
        if (ctl.signal.aborted) return;
        if (err instanceof Unauthorized) onUnauthorized();
        else setListError(messageOf(err));
      },
    );
    return () => ctl.abort();
  }, [site, onUnauthorized]);

  useEffect(() => {
    if (reports) writeUrl(view, reports);
  }, [view, reports]);

  // The engine answers 503 while it is still rolling up the lake for the range: ask again shortly.
  const [attempt, setAttempt] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `attempt` is the reason to run again
  useEffect(() => {
    if (!info) return;
    const ctl = new AbortController();
    let retry: ReturnType<typeof setTimeout> | undefined;
    setLoading(true);
    setFailure(null);
    reportsApi.run(site, view.report, apiParams(view), ctl.signal).then(
      (a) => {
        setAnswer(a);
        setLoading(false);
      },
      (err) => {
        if (ctl.signal.aborted) return;
        setLoading(false);
        if (err instanceof Unauthorized) return onUnauthorized();
        const preparing = err instanceof ReportApiError && err.status === 503;
        if (preparing) retry = setTimeout(() => setAttempt((n) => n + 1), RETRY_MS);
        setAnswer(null);
        setFailure({
          message: `${messageOf(err)}${preparing ? ' (asking again in a few seconds)' : ''}`,
          parameter: err instanceof ReportApiError ? err.parameter : undefined,
        });
      },
    );
    return () => {
      ctl.abort();
      clearTimeout(retry);
    };
  }, [site, view, info, onUnauthorized, attempt]);

  const pick = (id: ReportId) => {
    if (id === view.report) return;
    setAnswer(null);
    setView((v) =>
      withDefaults(
        { ...v, report: id, params: {} },
        reports?.find((r) => r.id === id),
      ),
    );
  };
  const change = (patch: Partial<ReportView>) => setView((v) => ({ ...v, ...patch }));
  const setParam = (name: string, value: string) => change({ params: { ...view.params, [name]: value } });
  const shown = answer?.report === view.report ? answer : null;

  return (
    <main className="page reports" data-testid="reports-page">
      <nav className="report-nav" aria-label="Reports">
        {(reports ?? []).map((r) => (
          <a
            key={r.id}
            href={`/reports?report=${r.id}`}
            aria-current={r.id === view.report ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              pick(r.id);
            }}
            data-testid={`report-link-${r.id}`}
          >
            {r.title}
          </a>
        ))}
      </nav>
      {listError && (
        <p className="error" role="alert" data-testid="report-error">
          {listError}
        </p>
      )}
      {!reports && !listError && <p className="muted">Loading reports…</p>}
      {info && (
        <section className="report card" aria-labelledby="report-title" data-testid={`report-${info.id}`}>
          <header className="report-head">
            <div>
              <h1 id="report-title">{info.title}</h1>
              <p className="report-description" data-testid="report-description">
                {info.description}
              </p>
            </div>
            <div className="report-actions">
              <a
                className="button ghost"
                href={reportsApi.csvUrl(site, view.report, apiParams(view))}
                download
                data-testid="report-csv"
              >
                Export CSV
              </a>
              <ScheduleButton
                site={site}
                report={info}
                params={{ bots: view.bots, ...view.params }}
                session={session}
                onUnauthorized={onUnauthorized}
              />
            </div>
          </header>
          <form
            className="report-controls"
            onSubmit={(e) => e.preventDefault()}
            data-testid="report-controls"
          >
            <DateRange view={view} onChange={change} />
            {ownParameters(info).map((p) => (
              <ParamField
                key={`${info.id}-${p.name}`}
                param={p}
                value={view.params[p.name] ?? p.default}
                invalid={failure?.parameter === p.name}
                onChange={(v) => setParam(p.name, v)}
              />
            ))}
            <BotsToggle view={view} onChange={(bots) => change({ bots })} />
          </form>
          <Definitions />
          <ReportBody answer={shown} failure={failure} loading={loading} view={view} theme={theme} />
        </section>
      )}
    </main>
  );
}

function ReportBody(props: {
  answer: ReportAnswer | null;
  failure: Failure | null;
  loading: boolean;
  view: ReportView;
  theme: string;
}) {
  const { answer: a, failure, loading, view } = props;
  const range = `${view.from} to ${addDays(view.to, -1)} (UTC)`;
  return (
    <div
      className="report-body"
      aria-busy={loading}
      data-testid="report-body"
      // For tests and tools: which parameters the answer on screen was computed with.
      data-state={loading ? 'loading' : failure ? 'error' : a ? 'done' : 'idle'}
      data-query={a ? reportQuery(a.params) : undefined}
    >
      <p className="report-status muted small" role="status" data-testid="report-status">
        {loading
          ? 'Running the report…'
          : a
            ? `${range} · ${a.rows.length} ${a.rows.length === 1 ? 'row' : 'rows'} · ${a.elapsedMs} ms`
            : ''}
      </p>
      {failure && (
        <p className="error" role="alert" data-testid="report-error">
          {failure.message}
        </p>
      )}
      {a?.rule && (
        <p className="report-rule" data-testid="report-rule">
          <strong>Rule: </strong>
          {a.rule}
        </p>
      )}
      {a && isEmpty(a) ? (
        <p className="report-empty" data-testid="report-empty">
          No data for this report from {range}
          {view.bots === 'exclude' ? ', bots excluded' : ''}. Try a longer range.
        </p>
      ) : (
        a && (
          <div className={loading ? 'report-result stale' : 'report-result'}>
            <ReportCharts answer={a} theme={props.theme} />
            <ResultTable answer={a} />
          </div>
        )
      )}
    </div>
  );
}

/** The words every report uses, as src/reports/types.ts defines them. */
function Definitions() {
  return (
    <details className="report-definitions small">
      <summary>How these reports count</summary>
      <ul>
        <li>Days are UTC; the last day is included.</li>
        <li>A visitor is a visitor id (REES46 imports: the user id).</li>
        <li>
          A session is one session id of one visitor on one UTC day: sessions end at midnight, so a visit
          across midnight counts on both days.
        </li>
        <li>
          Revenue is a purchase’s revenue, else price × quantity; an order is a distinct order id in a session
          (purchases without one: one order per session and instant).
        </li>
        <li>
          The landing referrer and UTM source/campaign are those of a session’s first event: “(direct)”
          without a referrer, “(internal)” from the store’s own host, “(none)” without UTM.
        </li>
        <li>Bot traffic (events flagged as bots) is left out unless “Include bot traffic” is on.</li>
      </ul>
    </details>
  );
}
