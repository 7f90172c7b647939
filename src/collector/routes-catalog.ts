import type { FastifyInstance } from 'fastify';
import { authenticate } from './routes-auth.js';
import type { ServerDeps } from './server.js';

/** The lake's catalog: tables, columns (and when they appeared), partitions, sizes, freshness. */
export function registerCatalogRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/api/v1/catalog', async (req) => {
    authenticate(deps, req, { role: 'viewer' });
    return deps.catalog.describe();
  });
}
