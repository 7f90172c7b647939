import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorOf } from '../auth/authenticate.js';
import { RebuildJobs } from '../realtime/rebuild-job.js';
import type { SnapshotQuery } from '../realtime/snapshot.js';
import { authenticate } from './routes-auth.js';
import { HttpError, type ServerDeps } from './server.js';

interface RealtimeQuery {
  range?: string;
  resolution?: string;
  top?: string;
}

/** `range=live` (default) or `range=<from>..<to>` with ISO times or epoch ms. */
export function parseSnapshotQuery(q: RealtimeQuery): SnapshotQuery {
  const resolution = q.resolution ?? 'minute';
  if (resolution !== 'minute' && resolution !== 'hour')
    throw new HttpError(400, 'resolution must be minute or hour');
  const top = q.top === undefined ? 10 : Number(q.top);
  if (!Number.isInteger(top) || top < 1 || top > 100)
    throw new HttpError(400, 'top must be a whole number from 1 to 100');
  if (!q.range || q.range === 'live') return { range: 'live', resolution, top };
  const [a, b] = q.range.split('..');
  const time = (v: string | undefined) => (v && /^\d+$/.test(v) ? Number(v) : Date.parse(v ?? ''));
  const from = time(a);
  const to = b ? time(b) : Date.now();
  if (Number.isNaN(from) || Number.isNaN(to) || to < from) {
    throw new HttpError(
      400,
      'range must be "live" or "<from>..<to>" (ISO-8601 or epoch ms), e.g. 2026-11-23T10:00:00Z..2026-11-23T12:00:00Z',
    );
  }
  return { range: { from, to }, resolution, top };
}

function siteOf(deps: ServerDeps, req: FastifyRequest<{ Params: { site: string } }>): string {
  const { site } = req.params;
  if (!deps.sites.get(site))
    throw new HttpError(404, `no site "${site}"; list sites with \`storepulse sites list\``);
  return site;
}

export function registerRealtimeRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const rebuilds = new RebuildJobs(deps.realtime, (err) => app.log.warn({ err: err.message }, 'realtime'));

  // Recompute the live metrics' history, e.g. after adding a metric or importing old data.
  app.post('/api/v1/realtime/rebuild', async (req, reply) => {
    const p = authenticate(deps, req, { role: 'admin' });
    const body = (req.body ?? {}) as { from?: unknown; source?: unknown };
    const source = body.source ?? 'lake';
    const from = typeof body.from === 'number' ? body.from : Date.parse(String(body.from));
    if ((source !== 'lake' && source !== 'stream') || !Number.isFinite(from)) {
      throw new HttpError(
        400,
        'send {"from": "<ISO-8601 time or epoch ms>", "source": "lake" | "stream"}, e.g. {"from": "2026-11-01T00:00:00Z"}',
      );
    }
    const job = rebuilds.start(source, from, actorOf(p));
    if (!job)
      throw new HttpError(409, 'a rebuild is already running; follow it at GET /api/v1/realtime/rebuild');
    return reply.code(202).send(job);
  });

  app.get('/api/v1/realtime/rebuild', async (req) => {
    authenticate(deps, req, { role: 'admin' });
    return rebuilds.status();
  });

  app.get<{ Params: { site: string }; Querystring: RealtimeQuery }>(
    '/api/v1/sites/:site/realtime',
    async (req) => {
      authenticate(deps, req, { role: 'viewer' });
      return deps.realtime.snapshot(siteOf(deps, req), parseSnapshotQuery(req.query));
    },
  );

  // Server-sent events: a live snapshot now and then at least once a second while connected.
  app.get<{ Params: { site: string }; Querystring: RealtimeQuery }>(
    '/api/v1/sites/:site/realtime/stream',
    async (req, reply) => {
      authenticate(deps, req, { role: 'viewer' });
      const site = siteOf(deps, req);
      const query = parseSnapshotQuery({ ...req.query, range: 'live' });
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      let seq = 0;
      const send = () => {
        const data = JSON.stringify(deps.realtime.snapshot(site, query));
        res.write(`id: ${++seq}\nevent: snapshot\ndata: ${data}\n\n`);
      };
      send();
      let lastSent = Date.now();
      const unsubscribe = deps.realtime.onUpdate((u) => {
        if (u.siteId !== site) return;
        send();
        lastSent = Date.now();
      });
      // Idle sites get a fresh snapshot every second anyway (counters such as "active now" change with time).
      const tick = setInterval(() => {
        if (Date.now() - lastSent >= 1000) {
          send();
          lastSent = Date.now();
        }
      }, 250);
      const stop = () => {
        clearInterval(tick);
        clearInterval(recheck);
        unsubscribe();
      };
      // A stream outlives the check at its start: end it when the session or key stops being valid.
      const recheck = setInterval(() => {
        try {
          authenticate(deps, req, { role: 'viewer' });
        } catch {
          stop();
          res.end();
        }
      }, 30_000);
      req.raw.on('close', stop);
    },
  );
}
