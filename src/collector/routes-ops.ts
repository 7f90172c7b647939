import type { FastifyInstance } from 'fastify';
import { opsSummary } from '../ops/summary.js';
import { authenticate } from './routes-auth.js';
import type { ServerDeps } from './server.js';

/** What the dashboard needs besides the realtime snapshot: the site list and the Ops page's figures. */
export function registerOpsRoutes(app: FastifyInstance, deps: ServerDeps): void {
  // Ids and names only: write keys are shown by `storepulse sites list`, not to dashboard viewers.
  app.get('/api/v1/sites', async (req) => {
    authenticate(deps, req, { role: 'viewer' });
    return {
      sites: deps.sites
        .list()
        .map((s) => ({ id: s.id, name: s.name }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    };
  });

  app.get('/api/v1/ops', async (req, reply) => {
    authenticate(deps, req, { role: 'viewer' });
    return reply
      .header('cache-control', 'no-store')
      .send(await opsSummary(deps.metrics.registry, deps.ready()));
  });
}
