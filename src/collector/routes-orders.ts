import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from './routes-auth.js';
import { HttpError, type ServerDeps } from './server.js';
import { knownSite, siteParam } from './site-param.js';

/**
 * Order history and customer pages. Customer data is personal, so these need the analyst role
 * (or a `query` API key), like SQL over the lake; viewers see only aggregates.
 *
 * The store's customers live under a site: `/api/v1/sites/:site/users/:userId/…`. The issue's
 * `/api/v1/users/:userId/orders` also works, with `?site=` (optional while there is one site).
 * `:userId` is a user id, or a visitor id for purchases made without one.
 */

interface PageQuery {
  limit?: string;
  cursor?: string;
  site?: string;
}

const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

function parseLimit(v: string | undefined): number {
  if (v === undefined || v === '') return DEFAULT_LIMIT;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT)
    throw new HttpError(400, `limit must be a whole number from 1 to ${MAX_LIMIT}`);
  return n;
}

function customerId(v: string): string {
  if (v.length === 0 || v.length > 256) throw new HttpError(400, 'user id must be 1 to 256 characters');
  return v;
}

function ordersPage(deps: ServerDeps, reply: FastifyReply, site: string, user: string, q: PageQuery) {
  const page = deps.orders.orders(site, customerId(user), { limit: parseLimit(q.limit), cursor: q.cursor });
  if (!page) throw new HttpError(400, 'cursor is not one this API gave out; start again without it');
  return reply.header('cache-control', 'no-store').send({ site, userId: user, ...page });
}

export function registerOrderRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get<{ Params: { site: string; userId: string }; Querystring: PageQuery }>(
    '/api/v1/sites/:site/users/:userId/orders',
    async (req, reply) => {
      authenticate(deps, req, { role: 'analyst' });
      return ordersPage(deps, reply, knownSite(deps, req.params.site), req.params.userId, req.query);
    },
  );

  app.get<{ Params: { userId: string }; Querystring: PageQuery }>(
    '/api/v1/users/:userId/orders',
    async (req: FastifyRequest<{ Params: { userId: string }; Querystring: PageQuery }>, reply) => {
      authenticate(deps, req, { role: 'analyst' });
      return ordersPage(
        deps,
        reply,
        siteParam(deps, req.query.site, '/api/v1/sites/<site>/users/<user id>/orders'),
        req.params.userId,
        req.query,
      );
    },
  );

  app.get<{ Params: { site: string; userId: string } }>(
    '/api/v1/sites/:site/users/:userId',
    async (req, reply) => {
      authenticate(deps, req, { role: 'analyst' });
      const site = knownSite(deps, req.params.site);
      const summary = deps.orders.customer(site, customerId(req.params.userId));
      if (!summary)
        throw new HttpError(
          404,
          `no user or visitor "${req.params.userId}" on site "${site}" (imported history appears after \`storepulse orders rebuild\`)`,
        );
      return reply.header('cache-control', 'no-store').send(summary);
    },
  );
}
