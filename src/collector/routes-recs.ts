import type { FastifyInstance, FastifyReply } from 'fastify';
import { actorOf } from '../auth/authenticate.js';
import type { RecsMiss, RecsService } from '../recs/recs-service.js';
import type { RetrainScheduler } from '../recs/retrain-schedule.js';
import { authenticate, clientOf } from './routes-auth.js';
import { HttpError, type ServerDeps } from './server.js';
import { knownSite, siteParam } from './site-param.js';

/**
 * Recommendations for the store's backend and the dashboard page.
 *
 * Lists are derived from customers' behaviour, so reading them needs what the order history
 * needs: the analyst role, or an API key with the `query` scope (what a store's backend uses).
 * Training is an admin's job. Paths exist with the site in the path
 * (`/api/v1/sites/:site/recommendations/…`) and with `?site=` (optional while there is one site).
 */

export interface RecsDeps {
  service: RecsService;
  retrain: RetrainScheduler;
}

const DEFAULT_N = 10;
export const MAX_N = 100;

interface RecsQuery {
  n?: string;
  site?: string;
}

function parseN(v: string | undefined): number {
  if (v === undefined || v === '') return DEFAULT_N;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_N)
    throw new HttpError(400, `n must be a whole number from 1 to ${MAX_N}`);
  return n;
}

function idParam(v: string, what: string): string {
  if (v.length === 0 || v.length > 256) throw new HttpError(400, `${what} must be 1 to 256 characters`);
  return v;
}

function answer<T extends { ok: true }>(reply: FastifyReply, r: T | RecsMiss) {
  if (!r.ok) throw new HttpError(r.status, r.reason);
  const { ok: _ok, ...body } = r;
  return reply.header('cache-control', 'no-store').send(body);
}

export function registerRecsRoutes(app: FastifyInstance, deps: ServerDeps, recs: RecsDeps): void {
  const { service, retrain } = recs;
  type SiteParams = { site: string };
  // Both path forms share one handler; `site` is either in the path or in the query.
  const siteOf = (params: Partial<SiteParams>, q: RecsQuery) =>
    params.site !== undefined
      ? knownSite(deps, params.site)
      : siteParam(deps, q.site, '/api/v1/sites/<site>/recommendations/…');

  for (const prefix of ['/api/v1/recommendations', '/api/v1/sites/:site/recommendations']) {
    app.get<{ Params: Partial<SiteParams> & { userId: string }; Querystring: RecsQuery }>(
      `${prefix}/users/:userId`,
      async (req, reply) => {
        authenticate(deps, req, { role: 'analyst' });
        const site = siteOf(req.params, req.query);
        const n = parseN(req.query.n);
        return answer(reply, service.forUser(site, idParam(req.params.userId, 'user id'), n));
      },
    );

    app.get<{ Params: Partial<SiteParams> & { productId: string }; Querystring: RecsQuery }>(
      `${prefix}/items/:productId/similar`,
      async (req, reply) => {
        authenticate(deps, req, { role: 'analyst' });
        const site = siteOf(req.params, req.query);
        const n = parseN(req.query.n);
        return answer(reply, service.similarItems(site, idParam(req.params.productId, 'product id'), n));
      },
    );

    app.get<{ Params: Partial<SiteParams>; Querystring: RecsQuery }>(
      `${prefix}/model`,
      async (req, reply) => {
        authenticate(deps, req, { role: 'analyst' });
        const site = siteOf(req.params, req.query);
        return reply
          .header('cache-control', 'no-store')
          .send({ site, ...service.models(site), training: retrain.list(site) });
      },
    );

    app.get<{ Params: Partial<SiteParams>; Querystring: RecsQuery }>(
      `${prefix}/train`,
      async (req, reply) => {
        authenticate(deps, req, { role: 'analyst' });
        const site = siteOf(req.params, req.query);
        return reply.header('cache-control', 'no-store').send({ site, jobs: retrain.list(site) });
      },
    );

    app.post<{ Params: Partial<SiteParams>; Querystring: RecsQuery; Body: unknown }>(
      `${prefix}/train`,
      async (req, reply) => {
        const who = authenticate(deps, req, { role: 'admin' });
        const site = siteOf(req.params, req.query);
        const body = (req.body ?? {}) as { days?: unknown };
        let days: number | undefined;
        if (body && typeof body === 'object' && body.days !== undefined) {
          if (!Number.isInteger(body.days) || (body.days as number) < 1)
            throw new HttpError(400, 'days must be a whole number of days (at least 1)');
          days = body.days as number;
        }
        const r = retrain.train(site, 'api', days);
        if ('busy' in r)
          throw new HttpError(
            409,
            `a training is running (site "${r.busy.siteId}", started ${r.busy.startedAt}); follow it at GET /api/v1/sites/${r.busy.siteId}/recommendations/train`,
            { job: r.busy },
          );
        deps.auth.audit.record({
          action: 'recs_training_started',
          actor: actorOf(who),
          target: site,
          detail: { job: r.job.id, days: r.job.days },
          ...clientOf(req),
        });
        return reply
          .code(202)
          .header('location', `/api/v1/sites/${site}/recommendations/train`)
          .send({ job: r.job });
      },
    );
  }
}
