import { useCallback, useEffect, useState } from 'react';
import { fmtWhen, InlineError } from './admin-widgets';
import { OffenderTable } from './alert-evidence';
import { alertsApi, type HistoryEntry, type Offender } from './alerts-api';
import { useApiAction } from './use-api-action';

/** Who floods or scrapes the site now, with reasons and counts, and the blocklist to act on it. */
export function Offenders(props: { site: string; onUnauthorized: () => void }) {
  const { error, run } = useApiAction(props.onUnauthorized);
  const [offenders, setOffenders] = useState<Offender[] | null>(null);
  const reload = useCallback(
    () => run(async () => setOffenders(await alertsApi.offenders(props.site))),
    [run, props.site],
  );
  useEffect(() => {
    void reload();
    const t = setInterval(reload, 10_000);
    return () => clearInterval(t);
  }, [reload]);
  return (
    <div className="offenders" data-testid="offenders">
      <div className="row-actions blocklist-links">
        <span className="muted small">Blocklist:</span>
        <a
          className="button"
          href={alertsApi.blocklistUrl(props.site, 'plain')}
          download
          data-testid="blocklist-plain"
        >
          Plain list (.txt)
        </a>
        <a
          className="button"
          href={alertsApi.blocklistUrl(props.site, 'nginx')}
          download
          data-testid="blocklist-nginx"
        >
          nginx deny snippet (.conf)
        </a>
      </div>
      <InlineError error={error} testId="offenders-error" />
      {offenders?.length === 0 && (
        <p className="muted small">
          Nobody is flooding or scraping {props.site} now (offenders are kept 30 min).
        </p>
      )}
      {offenders && offenders.length > 0 && <OffenderTable offenders={offenders} testId="offender-list" />}
    </div>
  );
}

/** Every transition of every alert of the site, newest first. */
export function History(props: { site: string; onUnauthorized: () => void }) {
  const { error, run } = useApiAction(props.onUnauthorized);
  const [entries, setEntries] = useState<HistoryEntry[] | null>(null);
  useEffect(() => {
    void run(async () => setEntries(await alertsApi.history(props.site)));
  }, [run, props.site]);
  return (
    <div data-testid="alert-history">
      <InlineError error={error} testId="history-error" />
      {entries?.length === 0 && <p className="muted small">No alerts yet.</p>}
      {entries && entries.length > 0 && (
        <div className="table-scroll">
          <table data-testid="history-table">
            <thead>
              <tr>
                <th>When</th>
                <th>State</th>
                <th>Alert</th>
                <th>Value</th>
                <th>Summary</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((h) => (
                <tr key={h.id}>
                  <td>{fmtWhen(h.at, 'second')}</td>
                  <td className={`state state-${h.state}`}>{h.state}</td>
                  <td>{h.labels.alertname ?? h.rule}</td>
                  <td>{h.value === null ? '—' : Number.isInteger(h.value) ? h.value : h.value.toFixed(3)}</td>
                  <td className="detail">{h.summary}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
