import { useCallback, useEffect, useState } from 'react';
import { InlineError } from './admin-widgets';
import { Rules } from './alert-rules';
import { type Alert, alertsApi, type Silence } from './alerts-api';
import { Channels } from './alerts-channels';
import { AlertList } from './alerts-list';
import { Silences } from './alerts-silences';
import { History, Offenders } from './alerts-tables';
import type { Session } from './api-types';
import { queryParam, setQueryParam } from './router';
import { useApiAction } from './use-api-action';
import './alerts-page.css';

type View = 'alerts' | 'rules' | 'silences' | 'offenders' | 'channels' | 'history';
const VIEWS: { id: View; label: string; admin?: boolean }[] = [
  { id: 'alerts', label: 'Alerts' },
  { id: 'rules', label: 'Rules' },
  { id: 'silences', label: 'Silences & maintenance' },
  { id: 'offenders', label: 'Offenders' },
  { id: 'channels', label: 'Channels', admin: true },
  { id: 'history', label: 'History' },
];

interface Props {
  site: string;
  session: Session;
  theme: string;
  onUnauthorized: () => void;
}

/** Silences that can concern this site: those naming it, and those naming no site. */
const forSite = (s: Silence, site: string) => {
  const m = s.matchers.site;
  return m === undefined || m === site || (m.startsWith('~') && safeTest(m.slice(1), site));
};
function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(value);
  } catch {
    return false;
  }
}

/** `silence:<id>` → the silence's author and reason; `inhibited:<alertname>` → that alert. */
function mutedText(mutedBy: string, silences: Silence[]): string {
  const [kind, id] = [mutedBy.slice(0, mutedBy.indexOf(':')), mutedBy.slice(mutedBy.indexOf(':') + 1)];
  if (kind === 'inhibited') return `the firing ${id} alert it follows from`;
  const s = silences.find((x) => x.id === id);
  return s ? `${kind} by ${s.author}: “${s.comment}”` : mutedBy;
}

/**
 * The Alerts page: what fires now on the selected site (with chart, evidence and actions), the
 * threshold rules and their editor, silences and maintenance windows, offenders and blocklists,
 * notification channels (admins) and the history. The view is kept in the address (?view=).
 */
export function AlertsPage(props: Props) {
  const { site, session } = props;
  const [view, setView] = useState<View>(() => {
    const v = queryParam('view');
    return VIEWS.some((x) => x.id === v) ? (v as View) : 'alerts';
  });
  const { error, run } = useApiAction(props.onUnauthorized);
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [silences, setSilences] = useState<Silence[]>([]);

  const reload = useCallback(
    () =>
      run(async () => {
        const [a, s] = await Promise.all([alertsApi.alerts(site), alertsApi.silences()]);
        setAlerts(a);
        setSilences(s.filter((x) => forSite(x, site)));
      }),
    [run, site],
  );
  useEffect(() => {
    setAlerts(null);
    void reload();
    const t = setInterval(reload, 10_000);
    return () => clearInterval(t);
  }, [reload]);

  const go = (v: View) => {
    setView(v);
    setQueryParam('view', v);
  };
  const firing = alerts?.filter((a) => a.state === 'firing') ?? [];
  const pending = alerts?.filter((a) => a.state === 'pending') ?? [];
  const now = Date.now();
  const activeSilences = silences.filter((s) => s.startsAt <= now && s.endsAt > now).length;
  const views = VIEWS.filter((v) => !v.admin || session.permissions.admin);
  const current = views.some((v) => v.id === view) ? view : 'alerts';

  return (
    <main className="page alerts-page" data-testid="alerts-page">
      <div className="alerts-top">
        <h1>Alerts · {site}</h1>
        <p className="status-line" data-testid="alerts-status">
          <span className={`dot ${firing.length > 0 ? 'error' : 'live'}`} aria-hidden="true" />
          {alerts === null
            ? 'Loading…'
            : `${firing.length} firing · ${pending.length} pending · ${activeSilences} silence(s) active`}
        </p>
      </div>
      <nav className="alerts-nav" aria-label="Alerts sections">
        {views.map((v) => (
          <a
            key={v.id}
            href={`?view=${v.id}`}
            aria-current={current === v.id ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              go(v.id);
            }}
            data-testid={`alerts-nav-${v.id}`}
          >
            {v.label}
            {v.id === 'alerts' && firing.length > 0 && <span className="count-badge">{firing.length}</span>}
          </a>
        ))}
      </nav>
      <InlineError error={error} testId="alerts-error" />
      <section className="card alerts-section">
        {current === 'alerts' && alerts && (
          <AlertList
            alerts={alerts}
            mutedText={(by) => mutedText(by, silences)}
            session={session}
            theme={props.theme}
            onChanged={reload}
            onUnauthorized={props.onUnauthorized}
          />
        )}
        {current === 'rules' && (
          <Rules site={site} session={session} theme={props.theme} onUnauthorized={props.onUnauthorized} />
        )}
        {current === 'silences' && (
          <Silences
            site={site}
            session={session}
            silences={silences}
            onChanged={reload}
            onUnauthorized={props.onUnauthorized}
          />
        )}
        {current === 'offenders' && <Offenders site={site} onUnauthorized={props.onUnauthorized} />}
        {current === 'channels' && (
          <Channels site={site} session={session} onUnauthorized={props.onUnauthorized} />
        )}
        {current === 'history' && <History site={site} onUnauthorized={props.onUnauthorized} />}
      </section>
    </main>
  );
}
