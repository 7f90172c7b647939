import { HttpError, type ServerDeps } from './server.js';

/** A site named in a path or query: 404 with what to do when there is no such site. */
export function knownSite(deps: ServerDeps, site: string): string {
  if (!deps.sites.get(site))
    throw new HttpError(404, `no site "${site}"; list sites with \`storepulse sites list\``);
  return site;
}

/**
 * `?site=` on a path without the site in it: optional while there is one site, otherwise a 400
 * naming the sites and the site-scoped path (`sitePath`) to use instead.
 */
export function siteParam(deps: ServerDeps, site: string | undefined, sitePath: string): string {
  if (site) return knownSite(deps, site);
  const all = deps.sites.list();
  if (all.length === 1) return all[0].id;
  throw new HttpError(
    400,
    `say which site: ?site=<id> (one of ${all.map((s) => s.id).join(', ')}), or use ${sitePath}`,
  );
}
