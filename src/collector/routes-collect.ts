import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Mapped } from '../events/model.js';
import { fromWire } from '../events/normalise.js';
import { fromPixel } from '../events/pixel.js';
import { fromSegment } from '../events/segment.js';
import { badRecord, type IngestResult, ingest, quarantine } from './ingest.js';
import {
  authenticateSite,
  HttpError,
  ingestContext,
  isInvalidBody,
  type ServerDeps,
  sourceOf,
} from './server.js';

// 1×1 transparent GIF
const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

function respond(reply: FastifyReply, r: IngestResult) {
  const body = { accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected };
  if (r.accepted === 0 && r.rejected.length > 0) {
    return reply
      .code(400)
      .send({ error: `all ${r.rejected.length} event(s) rejected; see "rejected" for reasons`, ...body });
  }
  return reply.code(200).send(body);
}

/** Unwraps one event, an array, or `{ events: [...] }`; anything else is a reason. */
function batchOf(body: unknown, maxBatch: number): unknown[] | string {
  const list = Array.isArray(body)
    ? body
    : body && typeof body === 'object' && Array.isArray((body as { events?: unknown }).events)
      ? (body as { events: unknown[] }).events
      : body && typeof body === 'object' && 'type' in body
        ? [body]
        : null;
  if (!list) return 'body must be an event object, an array of events, or {"events": [...]}';
  if (list.length === 0) return 'batch is empty';
  if (list.length > maxBatch) return `batch has ${list.length} events; the limit is ${maxBatch}, split it`;
  return list;
}

// analytics.js (the browser SDK) posts to one-letter paths: /v1/t, /v1/p, /v1/i, /v1/s, and /v1/b when batching.
const SEGMENT_SHORT_PATHS: Record<string, string> = {
  t: 'track',
  p: 'page',
  i: 'identify',
  s: 'screen',
  b: 'batch',
};

export function registerCollectRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { log, metrics, config } = deps;

  /** Refuses a whole request body: quarantined with its reason, then a 4xx that says why. */
  async function refuseBody(
    siteId: string,
    source: string,
    reason: string,
    raw: unknown,
    status = 400,
  ): Promise<never> {
    await quarantine(log, [badRecord({ site_id: siteId, source, reason, raw })]);
    metrics.rejected(siteId, source, 1);
    throw new HttpError(status, reason);
  }

  app.post('/api/v1/events', async (req, reply) => {
    const site = authenticateSite(deps, req);
    const source = sourceOf(req.url);
    if (isInvalidBody(req.body)) return refuseBody(site.id, source, req.body.__invalid, req.body.raw);
    const list = batchOf(req.body, config.server.maxBatch);
    if (typeof list === 'string')
      return refuseBody(site.id, source, list, req.body, list.includes('limit') ? 413 : 400);
    const ctx = ingestContext(deps, req, site, source);
    const mapped: Mapped[][] = list.map((e) => [fromWire(e, ctx)]);
    return respond(reply, await ingest(log, site.id, source, mapped, list, metrics));
  });

  app.get('/t.gif', async (req, reply) => {
    const site = authenticateSite(deps, req);
    const query = req.query as Record<string, unknown>;
    const result = await ingest(
      log,
      site.id,
      'pixel',
      [[fromPixel(query, ingestContext(deps, req, site, 'pixel'))]],
      [query],
      metrics,
    );
    reply.header('cache-control', 'no-store, max-age=0').type('image/gif');
    if (result.rejected.length > 0)
      reply.code(400).header('x-storepulse-error', result.rejected[0].reason.slice(0, 200));
    return reply.send(GIF);
  });

  // Segment-compatible tracking API: analytics-node and analytics.js post here unchanged.
  app.post<{ Params: { call: string } }>('/v1/:call', async (req, reply) => {
    const site = authenticateSite(deps, req);
    const call = SEGMENT_SHORT_PATHS[req.params.call] ?? req.params.call;
    if (isInvalidBody(req.body)) return refuseBody(site.id, 'segment', req.body.__invalid, req.body.raw);
    const ctx = ingestContext(deps, req, site, 'segment');
    let messages: unknown[];
    if (call === 'batch' || call === 'import') {
      const batch = (req.body as { batch?: unknown })?.batch;
      if (!Array.isArray(batch))
        return refuseBody(site.id, 'segment', 'Segment batch needs a "batch" array', req.body);
      if (batch.length > config.server.maxBatch) {
        return refuseBody(
          site.id,
          'segment',
          `batch has ${batch.length} messages; the limit is ${config.server.maxBatch}`,
          '(batch)',
          413,
        );
      }
      messages = batch;
    } else if (['track', 'page', 'identify', 'screen'].includes(call)) {
      messages = [req.body];
    } else {
      throw new HttpError(
        404,
        `unknown Segment endpoint /v1/${call}; use track, page, identify, screen or batch`,
      );
    }
    const hint = call === 'batch' || call === 'import' ? undefined : call;
    const mapped = messages.map((m) => fromSegment(m, ctx, hint));
    const result = await ingest(log, site.id, 'segment', mapped, messages, metrics);
    if (result.accepted === 0 && result.rejected.length > 0) return respond(reply, result);
    return reply.send({ success: true, ...result });
  });

  app.get('/sp.js', async (_req, reply) =>
    reply
      .header('cache-control', 'public, max-age=300')
      .type('application/javascript; charset=utf-8')
      .send(deps.trackerJs),
  );
}
