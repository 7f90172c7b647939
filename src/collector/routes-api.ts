import type { FastifyInstance } from 'fastify';
import { QueryError } from '../query/sandbox.js';
import { authenticate } from './routes-auth.js';
import { HttpError, type ServerDeps } from './server.js';

const QUERY_STATUS: Record<QueryError['code'], number> = {
  refused: 403,
  invalid: 400,
  timeout: 408,
  failed: 422,
};

export function registerApiRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const r = deps.ready();
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'starting', checks: r.checks });
  });

  app.get('/metrics', async (_req, reply) =>
    reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics()),
  );

  app.post('/api/v1/query', async (req, reply) => {
    authenticate(deps, req, { role: 'analyst' });
    const body = req.body as { sql?: unknown; maxRows?: unknown };
    if (!body || typeof body !== 'object' || typeof body.sql !== 'string' || body.sql.trim() === '') {
      throw new HttpError(400, 'send {"sql": "SELECT …"}');
    }
    try {
      return await deps.sandbox.query(body.sql, {
        maxRows: typeof body.maxRows === 'number' ? body.maxRows : undefined,
      });
    } catch (err) {
      if (err instanceof QueryError)
        return reply.code(QUERY_STATUS[err.code]).send({ error: err.message, code: err.code });
      throw err;
    }
  });
}
