import type { Alert } from './alerts-api';

const MARGIN_MS = 5 * 60_000;

/**
 * The Logs page link of an alert with a log meaning: the detector put the query in
 * `evidence.logsQuery` (src/alerts/logs-query.ts); the range runs from a little before the
 * alert started to a little after it resolved (open-ended while it fires, so live tail works).
 */
export function alertLogsHref(a: Alert): string | null {
  const q = a.evidence?.logsQuery;
  if (typeof q !== 'string' || q === '') return null;
  const p = new URLSearchParams({ site: a.site, q, from: String(a.since - MARGIN_MS) });
  if (a.state === 'resolved') p.set('to', String((a.resolvedAt ?? a.lastSeen) + MARGIN_MS));
  return `/logs?${p}`;
}

export function AlertLogsLink(props: { alert: Alert }) {
  const href = alertLogsHref(props.alert);
  if (!href) return null;
  return (
    <p className="small">
      <a href={href} data-testid="alert-logs-link">
        Matching logs
      </a>{' '}
      <code className="muted">{String(props.alert.evidence?.logsQuery)}</code>
    </p>
  );
}
