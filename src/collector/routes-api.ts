import type { FastifyInstance } from 'fastify';
import type { ServerDeps } from './server.js';

/** Health, readiness and metrics. SQL lives in routes-sql.ts, the catalog in routes-catalog.ts. */
export function registerApiRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const r = deps.ready();
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'starting', checks: r.checks });
  });

  app.get('/metrics', async (_req, reply) =>
    reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
  );
}
