import type { FastifyInstance, FastifyReply } from 'fastify';
import { actorOf } from '../auth/authenticate.js';
import type { AvailabilityChange, ProductAvailability } from '../recs/availability.js';
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
  /** Products the store marked unavailable (out of stock, withdrawn); absent: the endpoints answer 404. */
  availability?: ProductAvailability;
}

/** Most product ids one availability change may carry. */
export const MAX_AVAILABILITY_IDS = 10_000;

/** `{"unavailable": [ids], "available": [ids]}`, either or both. */
function availabilityChange(body: unknown): AvailabilityChange {
  const usage =
    'send {"unavailable": ["product id", …], "available": ["product id", …]} (either or both; ids 1 to 256 characters)';
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, usage);
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => k !== 'unavailable' && k !== 'available');
  if (unknown.length > 0) throw new HttpError(400, `unknown field "${unknown[0]}": ${usage}`);
  const ids = (k: 'unavailable' | 'available'): string[] | undefined => {
    const v = b[k];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.length >= 1 && x.length <= 256))
      throw new HttpError(400, `"${k}" must be an array of product ids: ${usage}`);
    return v as string[];
  };
  const change = { unavailable: ids('unavailable'), available: ids('available') };
  const count = (change.unavailable?.length ?? 0) + (change.available?.length ?? 0);
  if (count === 0) throw new HttpError(400, usage);
  if (count > MAX_AVAILABILITY_IDS)
    throw new HttpError(413, `at most ${MAX_AVAILABILITY_IDS} product ids per request: send several`);
  return change;
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
  const { service, retrain, availability } = recs;
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
      `${prefix}/availability`,
      async (req, reply) => {
        authenticate(deps, req, { role: 'analyst' });
        const site = siteOf(req.params, req.query);
        if (!availability) throw new HttpError(404, 'product availability is not enabled in this server');
        const unavailable = [...availability.unavailable(site)].sort();
        return reply
          .header('cache-control', 'no-store')
          .send({ site, count: unavailable.length, unavailable });
      },
    );

    // The store's stock feed: products in "unavailable" leave every recommendation list at once,
    // products in "available" come back. Admins only (the site write key is public in pages).
    app.post<{ Params: Partial<SiteParams>; Querystring: RecsQuery; Body: unknown }>(
      `${prefix}/availability`,
      async (req, reply) => {
        const who = authenticate(deps, req, { role: 'admin' });
        const site = siteOf(req.params, req.query);
        if (!availability) throw new HttpError(404, 'product availability is not enabled in this server');
        const change = availabilityChange(req.body);
        const count = availability.apply(site, change);
        deps.auth.audit.record({
          action: 'recs_availability_changed',
          actor: actorOf(who),
          target: site,
          detail: {
            unavailable: change.unavailable?.length ?? 0,
            available: change.available?.length ?? 0,
            nowUnavailable: count,
          },
          ...clientOf(req),
        });
        return reply.header('cache-control', 'no-store').send({ site, count });
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
