import { useCallback, useEffect, useState } from 'react';

export type Page =
  | 'live'
  | 'ops'
  | 'sql'
  | 'catalog'
  | 'reports'
  | 'customers'
  | 'recommendations'
  | 'alerts'
  | 'logs'
  | 'admin'
  | 'login'
  | 'setup';
const PATHS: Record<Page, string> = {
  live: '/live',
  ops: '/ops',
  sql: '/sql',
  catalog: '/catalog',
  reports: '/reports',
  customers: '/customers',
  recommendations: '/recommendations',
  alerts: '/alerts',
  logs: '/logs',
  admin: '/admin',
  login: '/login',
  setup: '/setup',
};

const pageOf = (path: string): Page =>
  (Object.keys(PATHS) as Page[]).find((p) => PATHS[p] === path) ?? 'live';

/** History routing over the paths the server answers with the SPA shell (src/collector/routes-web.ts). */
export function useRoute() {
  const [page, setPage] = useState<Page>(() => pageOf(location.pathname));
  useEffect(() => {
    const onPop = () => setPage(pageOf(location.pathname));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const go = useCallback((to: Page, replace = false) => {
    // The setup token is single-use: never carry it into another page's URL.
    const q = new URLSearchParams(location.search);
    q.delete('token');
    const url = PATHS[to] + (q.size > 0 ? `?${q}` : '');
    if (location.pathname !== PATHS[to]) history[replace ? 'replaceState' : 'pushState']({}, '', url);
    setPage(to);
  }, []);
  return { page, go };
}

/** Writes a value into the query string (site, range) so a link shows the same view. */
export function setQueryParam(name: string, value: string) {
  const q = new URLSearchParams(location.search);
  q.set(name, value);
  history.replaceState({}, '', `${location.pathname}?${q}`);
}
export const queryParam = (name: string) => new URLSearchParams(location.search).get(name);
