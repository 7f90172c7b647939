import type { Offender } from './alerts-api';
import { fmtInt, fmtPct, fmtTime } from './format';

/**
 * An alert's evidence as a person reads it: the root-cause hint (segments and checkout funnel),
 * offending addresses and sessions as a table, plain facts as a list. A shape this page does not
 * know is shown as formatted JSON text. Everything is React text: evidence carries data from
 * requests (user agents, session ids), never markup.
 */

interface SegmentHint {
  dimension: string;
  value: string;
  actual: number;
  expected: number;
  change: number;
  explains: number;
}
interface FunnelStep {
  step: string;
  actual: number;
  expected: number;
  change: number;
}
interface RootCause {
  segments: SegmentHint[];
  broad: boolean;
  funnel: FunnelStep[];
  summary: string;
}

const LABELS: Record<string, string> = {
  windowMinutes: 'window (min)',
  z: 'z-score',
  change: 'change',
  baseline: 'baseline',
  samples: 'past periods compared',
  seasonal: 'seasonal expectation',
  trend: 'trend factor',
  errors: 'errors',
  requests: 'requests',
  usualRate: 'usual error rate',
  limit: 'limit',
  rule: 'rule',
  op: 'comparison',
  threshold: 'threshold',
  count: 'offenders',
  botRequests: 'bot requests',
  botShare: 'bot share of requests',
  anonymizedIps: 'addresses anonymised (/24)',
};
const RATIOS = new Set(['change', 'usualRate', 'botShare']);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isOffender = (v: unknown): v is Offender =>
  isObject(v) && typeof v.kind === 'string' && typeof v.key === 'string' && Array.isArray(v.reasons);
const isRootCause = (v: unknown): v is RootCause =>
  isObject(v) && Array.isArray(v.segments) && Array.isArray(v.funnel) && typeof v.summary === 'string';

const signed = (r: number) => `${r > 0 ? '+' : ''}${(r * 100).toFixed(Math.abs(r) < 0.1 ? 1 : 0)}%`;
const num = (v: number) => (Number.isInteger(v) ? fmtInt(v) : v.toFixed(Math.abs(v) < 1 ? 3 : 2));

function fact(key: string, v: unknown): string {
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return key === 'change' ? signed(v) : RATIOS.has(key) ? fmtPct(v) : num(v);
  return String(v);
}

export function Evidence(props: { evidence: Record<string, unknown> | undefined }) {
  const e = props.evidence;
  if (!e || Object.keys(e).length === 0) return <p className="muted small">No evidence recorded.</p>;
  const { rootCause, offenders, scrapers, ...rest } = e;
  // A flood alert's evidence is the offending network itself.
  const self = isOffender(rest) ? (rest as unknown as Offender) : null;
  const facts = self ? { anonymizedIps: rest.anonymizedIps } : rest;
  const scalar = Object.entries(facts).filter(
    ([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v),
  );
  const other = Object.entries(facts).filter(([k]) => !scalar.some(([s]) => s === k));
  return (
    <div className="evidence" data-testid="alert-evidence">
      {isRootCause(rootCause) && <RootCauseHint cause={rootCause} />}
      {self && <OffenderTable title="Offender" offenders={[self]} />}
      {Array.isArray(offenders) && offenders.every(isOffender) && offenders.length > 0 && (
        <OffenderTable title="Offenders" offenders={offenders} />
      )}
      {Array.isArray(scrapers) && scrapers.every(isOffender) && scrapers.length > 0 && (
        <OffenderTable title="Scrapers in the window" offenders={scrapers} />
      )}
      {scalar.length > 0 && (
        <dl className="facts evidence-facts">
          {scalar.map(([k, v]) => (
            <div key={k} className="fact">
              <dt>{LABELS[k] ?? k}</dt>
              <dd>{v === null ? '—' : fact(k, v)}</dd>
            </div>
          ))}
        </dl>
      )}
      {[
        ...other,
        ...(rootCause !== undefined && !isRootCause(rootCause) ? [['rootCause', rootCause] as const] : []),
        ...(offenders !== undefined && !(Array.isArray(offenders) && offenders.every(isOffender))
          ? [['offenders', offenders] as const]
          : []),
      ].map(([k, v]) => (
        <div key={k}>
          <h3>{LABELS[k] ?? k}</h3>
          <pre className="evidence-json">{JSON.stringify(v, null, 2)}</pre>
        </div>
      ))}
    </div>
  );
}

function RootCauseHint(props: { cause: RootCause }) {
  const { cause } = props;
  return (
    <div className="root-cause" data-testid="root-cause">
      <h3>Root-cause hint</h3>
      <p>
        {cause.summary ||
          (cause.broad ? 'The change is spread over all segments.' : 'No segment stands out.')}
      </p>
      {cause.segments.length > 0 && (
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th>Dimension</th>
                <th>Segment</th>
                <th>Actual</th>
                <th>Expected</th>
                <th>Change</th>
                <th>Explains</th>
              </tr>
            </thead>
            <tbody>
              {cause.segments.map((s) => (
                <tr key={`${s.dimension}:${s.value}`}>
                  <td>{s.dimension}</td>
                  <td className="clip" title={s.value}>
                    {s.value}
                  </td>
                  <td>{num(s.actual)}</td>
                  <td>{num(s.expected)}</td>
                  <td>{signed(s.change)}</td>
                  <td>{fmtPct(s.explains)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cause.funnel.length > 0 && (
        <>
          <h3>Checkout funnel</h3>
          <ol className="funnel-steps">
            {cause.funnel.map((f) => (
              <li key={f.step}>
                <span>{f.step}</span> <strong>{num(f.actual)}</strong>{' '}
                <span className="muted">
                  vs {num(f.expected)} expected ({signed(f.change)})
                </span>
              </li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}

const REASON: Record<string, string> = {
  request_rate: 'request rate',
  many_sessions: 'many sessions',
  traffic_share: 'traffic share',
  session_rate: 'session rate',
  scraper: 'scraper',
  card_testing: 'card testing',
  cart_without_views: 'cart without views',
};

export function OffenderTable(props: { title?: string; offenders: Offender[]; testId?: string }) {
  return (
    <div>
      {props.title && <h3>{props.title}</h3>}
      <div className="table-scroll">
        <table data-testid={props.testId}>
          <thead>
            <tr>
              <th>Kind</th>
              <th>Address / session</th>
              <th>Reasons</th>
              <th>Requests 10 s</th>
              <th>Requests 60 s</th>
              <th>Peak 60 s</th>
              <th>Sessions 60 s</th>
              <th>Last flagged</th>
              <th>Addresses</th>
              <th>User agents</th>
            </tr>
          </thead>
          <tbody>
            {props.offenders.map((o) => (
              <tr key={`${o.kind}:${o.key}`}>
                <td>{o.kind}</td>
                <td className="mono">{o.key}</td>
                <td>
                  {o.reasons.map((r) => (
                    <span key={r} className="pill">
                      {REASON[r] ?? r}
                    </span>
                  ))}
                </td>
                <td>{fmtInt(o.requests10s)}</td>
                <td>{fmtInt(o.requests60s)}</td>
                <td>{fmtInt(o.peak60s ?? o.requests60s)}</td>
                <td>{o.sessions60s === undefined ? '—' : fmtInt(o.sessions60s)}</td>
                <td>{fmtTime(o.lastFlagged)}</td>
                <td className="detail mono">
                  {(o.ips ?? []).map((i) => `${i.ip} (${fmtInt(i.requests)})`).join(', ') || '—'}
                  {o.paymentAttempts !== undefined &&
                    ` · ${o.paymentAttempts} payment attempts, ${o.paymentErrors ?? 0} failed`}
                  {o.carts !== undefined && ` · ${o.carts} carts`}
                </td>
                <td className="detail">{o.userAgents.join(' · ') || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
