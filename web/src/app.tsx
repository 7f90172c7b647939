import { useCallback, useEffect, useState } from 'react';
import { AdminPage } from './admin-page';
import { AlertsPage } from './alerts-page';
import { api, Unauthorized } from './api';
import type { Session, SiteInfo } from './api-types';
import { CatalogPage } from './catalog-page';
import { CustomerPage } from './customer-page';
import { LivePage } from './live-page';
import { LoginPage } from './login-page';
import { LogsPage } from './logs-page';
import { OpsPage } from './ops-page';
import { isRange, RANGES, type RangeId } from './ranges';
import { RecommendationsPage } from './recommendations-page';
import { ReportsPage } from './reports-page';
import { queryParam, setQueryParam, useRoute } from './router';
import { SqlPage } from './sql-page';
import { useTheme } from './theme';

export function App() {
  const { page, go } = useRoute();
  const theme = useTheme();
  // undefined while asking the server whether the cookie is still a session.
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [sites, setSites] = useState<SiteInfo[]>([]);
  const [site, setSite] = useState(() => queryParam('site') ?? localStorage.getItem('storepulse.site') ?? '');
  const [range, setRange] = useState<RangeId>(() => {
    const r = queryParam('range');
    return isRange(r) ? r : 'live';
  });

  const signedOut = useCallback(() => setSession(null), []);

  useEffect(() => {
    api.me().then(setSession, (err) => {
      if (!(err instanceof Unauthorized)) console.error(err);
      setSession(null);
    });
  }, []);

  useEffect(() => {
    if (session === null && page !== 'login' && page !== 'setup') go('login', true);
    if (session && (page === 'login' || page === 'setup')) go('live', true);
    // The server refuses the admin APIs anyway; the page is not offered to those it would refuse.
    if (session && page === 'admin' && !session.permissions.admin) go('live', true);
    // Customer data is personal: analysts and admins only (the API says the same).
    if (session && page === 'customers' && !session.permissions.query) go('live', true);
    // Recommendations come from customers' behaviour: the same people (the API says the same).
    if (session && page === 'recommendations' && !session.permissions.query) go('live', true);
    // Log lines carry client addresses: analysts and admins only (the API says the same).
    if (session && page === 'logs' && !session.permissions.query) go('live', true);
  }, [session, page, go]);

  useEffect(() => {
    if (!session) return;
    api.sites().then(
      (list) => {
        setSites(list);
        setSite((cur) => (list.some((s) => s.id === cur) ? cur : (list[0]?.id ?? '')));
      },
      (err) => (err instanceof Unauthorized ? signedOut() : console.error(err)),
    );
  }, [session, signedOut]);

  useEffect(() => {
    if (!site) return;
    localStorage.setItem('storepulse.site', site);
    setQueryParam('site', site);
  }, [site]);

  const logout = async () => {
    if (session) await api.logout(session.csrfToken).catch(() => {});
    setSession(null);
  };

  if (session === undefined) return <main className="loading muted">Loading…</main>;
  if (session === null)
    return (
      <LoginPage onLogin={setSession} setupToken={page === 'setup' ? (queryParam('token') ?? '') : null} />
    );

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true" /> storepulse
        </div>
        <nav className="tabs" aria-label="Pages">
          <a
            href="/live"
            aria-current={page === 'live' ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              go('live');
            }}
          >
            Live
          </a>
          <a
            href="/ops"
            aria-current={page === 'ops' ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              go('ops');
            }}
          >
            Ops
          </a>
          {session.permissions.query && (
            <a
              href="/customers"
              aria-current={page === 'customers' ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                go('customers');
              }}
            >
              Customers
            </a>
          )}
          {session.permissions.query && (
            <a
              href="/recommendations"
              aria-current={page === 'recommendations' ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                go('recommendations');
              }}
            >
              Recommendations
            </a>
          )}
          <a
            href="/alerts"
            aria-current={page === 'alerts' ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              go('alerts');
            }}
          >
            Alerts
          </a>
          {session.permissions.query && (
            <a
              href="/logs"
              aria-current={page === 'logs' ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                go('logs');
              }}
            >
              Logs
            </a>
          )}
          <a
            href="/reports"
            aria-current={page === 'reports' ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              go('reports');
            }}
          >
            Reports
          </a>
          <a
            href="/sql"
            aria-current={page === 'sql' ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              go('sql');
            }}
          >
            SQL
          </a>
          <a
            href="/catalog"
            aria-current={page === 'catalog' ? 'page' : undefined}
            onClick={(e) => {
              e.preventDefault();
              go('catalog');
            }}
          >
            Catalog
          </a>
          {session.permissions.admin && (
            <a
              href="/admin"
              aria-current={page === 'admin' ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                go('admin');
              }}
            >
              Admin
            </a>
          )}
        </nav>
        <div className="controls">
          {page !== 'admin' && page !== 'sql' && page !== 'catalog' && (
            <label>
              <span className="sr-only">Site</span>
              <select value={site} onChange={(e) => setSite(e.target.value)} data-testid="site-picker">
                {sites.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name === s.id ? s.id : `${s.name} (${s.id})`}
                  </option>
                ))}
              </select>
            </label>
          )}
          {page === 'live' && (
            <label>
              <span className="sr-only">Time range</span>
              <select
                value={range}
                onChange={(e) => {
                  const r = e.target.value as RangeId;
                  setRange(r);
                  setQueryParam('range', r);
                }}
                data-testid="range-picker"
              >
                {RANGES.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.label}
                  </option>
                ))}
              </select>
            </label>
          )}
          <button
            type="button"
            className="ghost"
            onClick={theme.toggle}
            aria-label={`Switch to ${theme.effective === 'dark' ? 'light' : 'dark'} theme`}
            data-testid="theme-toggle"
          >
            {theme.effective === 'dark' ? '☀' : '☾'}
          </button>
          <span className="user muted" title={session.user.role}>
            {session.user.email}
          </span>
          <button type="button" className="ghost" onClick={logout} data-testid="logout">
            Log out
          </button>
        </div>
      </header>
      {page === 'admin' && session.permissions.admin ? (
        <AdminPage session={session} onUnauthorized={signedOut} />
      ) : page === 'sql' ? (
        <SqlPage session={session} theme={theme.effective} onUnauthorized={signedOut} />
      ) : page === 'catalog' ? (
        <CatalogPage onUnauthorized={signedOut} />
      ) : page === 'ops' ? (
        <OpsPage theme={theme.effective} onUnauthorized={signedOut} />
      ) : page === 'customers' && site && session.permissions.query ? (
        <CustomerPage key={site} site={site} onUnauthorized={signedOut} />
      ) : page === 'recommendations' && site && session.permissions.query ? (
        <RecommendationsPage key={site} site={site} session={session} onUnauthorized={signedOut} />
      ) : page === 'logs' && site && session.permissions.query ? (
        <LogsPage key={site} site={site} theme={theme.effective} onUnauthorized={signedOut} />
      ) : page === 'alerts' && site ? (
        <AlertsPage site={site} session={session} theme={theme.effective} onUnauthorized={signedOut} />
      ) : page === 'reports' && site ? (
        <ReportsPage site={site} session={session} theme={theme.effective} onUnauthorized={signedOut} />
      ) : site ? (
        <LivePage site={site} range={range} theme={theme.effective} onUnauthorized={signedOut} />
      ) : (
        <main className="muted pad">No sites yet: add one with `storepulse sites add`.</main>
      )}
    </div>
  );
}
