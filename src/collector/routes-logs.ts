import { gunzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Site } from '../auth/sites.js';
import { parseBulk } from '../logs/ingest/es-bulk.js';
import type { LogsService } from '../logs/logs-service.js';
import { logMetrics } from '../logs/metrics/metrics-query.js';
import { histogramOf, type SearchRequest, searchLogs, topValues } from '../logs/search/log-search.js';
import { LogQueryError } from '../logs/search/query-text.js';
import { authenticate } from './routes-auth.js';
import { HttpError, type ServerDeps } from './server.js';

/**
 * Log ingest and search.
 *
 * Ingest (the Elasticsearch-compatible API shippers speak, and raw lines) is authenticated
 * with the site's write key, like events: it only appends to that site's logs, so it is the
 * key to give a shipper (Basic auth user or password, Bearer, or X-Write-Key). Reading logs
 * (lines carry client addresses) needs the analyst role or a `query` API key.
 */

const BULK_LIMIT = 64 * 1024 * 1024;
const ES_VERSION = '8.11.0';

/** Write key from Bearer, either half of Basic (shippers differ in which one they fill), or X-Write-Key. */
function siteOf(deps: ServerDeps, req: FastifyRequest): Site {
  const candidates: string[] = [];
  const auth = req.headers.authorization ?? '';
  if (auth.startsWith('Bearer ')) candidates.push(auth.slice(7).trim());
  if (auth.startsWith('Basic ')) {
    const [user, ...pass] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
    candidates.push(user, pass.join(':'));
  }
  const header = req.headers['x-write-key'];
  if (typeof header === 'string') candidates.push(header);
  for (const key of candidates) {
    const site = key ? deps.sites.byWriteKey(key) : null;
    if (site) return site;
  }
  throw new HttpError(
    401,
    candidates.length === 0
      ? 'missing write key: send it as the Basic auth user or password, or Authorization: Bearer <write key>'
      : 'unknown write key; list keys with `storepulse sites list`',
  );
}

function bodyText(req: FastifyRequest): string {
  let body = req.body as Buffer | undefined;
  if (!body || body.length === 0) return '';
  if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
  return body.toString('utf8');
}

function service(deps: ServerDeps): LogsService {
  if (!deps.logs) throw new HttpError(503, 'log analytics is not running in this server');
  return deps.logs;
}

function timeParam(v: string | undefined, name: string): number | null {
  if (v === undefined || v === '') return null;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (Number.isNaN(t)) throw new HttpError(400, `${name} must be ISO 8601 or epoch milliseconds, not "${v}"`);
  return t;
}

function intParam(v: string | undefined, name: string, dflt: number, max: number): number {
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max)
    throw new HttpError(400, `${name} must be a whole number from 0 to ${max}`);
  return n;
}

interface SearchQuery {
  site?: string;
  q?: string;
  from?: string;
  to?: string;
  page?: string;
  size?: string;
}

function searchRequest(deps: ServerDeps, query: SearchQuery): SearchRequest {
  const sites = deps.sites.list();
  const site = query.site ?? (sites.length === 1 ? sites[0].id : undefined);
  if (!site) throw new HttpError(400, 'pass ?site=<site id> (there is more than one site)');
  if (!deps.sites.get(site)) throw new HttpError(404, `no site "${site}"`);
  return {
    siteId: site,
    q: query.q ?? '',
    from: timeParam(query.from, 'from'),
    to: timeParam(query.to, 'to'),
  };
}

/** Query mistakes are the caller's: 400 with the message and the position in the query. */
function answer<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof LogQueryError) throw new HttpError(400, err.message, { position: err.position });
    throw err;
  }
}

export function registerLogRoutes(app: FastifyInstance, deps: ServerDeps): void {
  // `GET /` is the dashboard; a shipper (credentials, no text/html in Accept) gets the ES banner.
  app.addHook('onRequest', async (req, reply) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.url !== '/') return;
    if ((req.headers.accept ?? '').includes('text/html')) return;
    if (!req.headers.authorization && !req.headers['x-write-key']) return;
    const site = siteOf(deps, req);
    return esReply(reply).send({
      name: 'storepulse',
      cluster_name: `storepulse-${site.id}`,
      cluster_uuid: 'storepulse',
      version: {
        number: ES_VERSION,
        build_flavor: 'default',
        build_type: 'docker',
        lucene_version: '9.8.0',
        minimum_wire_compatibility_version: '7.17.0',
        minimum_index_compatibility_version: '7.0.0',
      },
      tagline: 'You Know, for Search',
    });
  });

  app.register(async (scope) => {
    // Bulk bodies are NDJSON (often gzipped) and larger than events: read them as they come.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BULK_LIMIT }, (_req, body, done) =>
      done(null, body),
    );

    const bulk = async (req: FastifyRequest<{ Params: { index?: string } }>, reply: FastifyReply) => {
      const site = siteOf(deps, req);
      const logs = service(deps);
      const started = Date.now();
      let parsed: ReturnType<typeof parseBulk>;
      try {
        parsed = parseBulk(bodyText(req), req.params.index ?? null, logs.parser('auto'), {
          siteId: site.id,
          receivedAt: started,
        });
      } catch (err) {
        return esReply(reply)
          .code(400)
          .send({ error: { type: 'parse_exception', reason: (err as Error).message }, status: 400 });
      }
      await logs.append(parsed.records);
      return esReply(reply).send({ took: Date.now() - started, errors: parsed.errors, items: parsed.items });
    };
    scope.post('/_bulk', bulk);
    scope.put('/_bulk', bulk);
    scope.post<{ Params: { index: string } }>('/:index/_bulk', bulk);
    scope.put<{ Params: { index: string } }>('/:index/_bulk', bulk);

    // What shippers ask before the first bulk: licence, templates, policies, nodes, health.
    const ok = (body: unknown) => async (req: FastifyRequest, reply: FastifyReply) => {
      siteOf(deps, req);
      return esReply(reply).send(body);
    };
    scope.get('/_license', ok({ license: { status: 'active', type: 'basic', uid: 'storepulse' } }));
    scope.get('/_xpack', ok({ build: {}, features: {}, license: { status: 'active', type: 'basic' } }));
    scope.get('/_cluster/health', ok({ cluster_name: 'storepulse', status: 'green', number_of_nodes: 1 }));
    scope.get('/_nodes', ok({ _nodes: { total: 1, successful: 1, failed: 0 }, nodes: {} }));
    scope.get('/_nodes/*', ok({ _nodes: { total: 1, successful: 1, failed: 0 }, nodes: {} }));
    for (const path of [
      '/_index_template/:name',
      '/_template/:name',
      '/_ilm/policy/:name',
      '/_component_template/:name',
    ]) {
      scope.get(path, ok({ index_templates: [], component_templates: [] }));
      scope.put(path, ok({ acknowledged: true }));
      scope.post(path, ok({ acknowledged: true }));
    }

    // Raw lines: POST /api/v1/logs/lines?source=nginx&format=combined (or a log_format string).
    // With `id` (a sender's name for one file's contents) and `offset` (the body's byte offset in
    // it), each line's key is its place in that file: a resent line is stored once (`logs tail`).
    scope.post<{ Querystring: { source?: string; format?: string; id?: string; offset?: string } }>(
      '/api/v1/logs/lines',
      async (req) => {
        const site = siteOf(deps, req);
        const logs = service(deps);
        const source = req.query.source || 'http';
        let parser: ReturnType<LogsService['parser']>;
        try {
          parser = logs.parser(req.query.format || 'auto');
        } catch (err) {
          throw new HttpError(400, `format: ${(err as Error).message}`);
        }
        const { id } = req.query;
        if (id !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(id))
          throw new HttpError(400, 'id must be 1 to 64 letters, digits, - or _');
        let offset = id === undefined ? 0 : Number(req.query.offset ?? 0);
        if (!Number.isSafeInteger(offset) || offset < 0)
          throw new HttpError(400, 'offset must be a whole number of bytes (0 or more)');
        const receivedAt = Date.now();
        const records = [];
        const keys: string[] = [];
        for (const raw of bodyText(req).split('\n')) {
          const at = offset;
          if (id !== undefined) offset += Buffer.byteLength(raw) + 1;
          const l = raw.replace(/\r$/, '');
          if (l.trim() === '') continue;
          records.push(parser.line(l, { siteId: site.id, source, receivedAt }));
          keys.push(`${site.id}:lines:${id}:${at}`);
        }
        const { duplicates } = await logs.append(records, id === undefined ? undefined : keys);
        const unparsed = records.filter((r) => r.parse_error).length;
        return id === undefined
          ? { accepted: records.length, unparsed }
          : { accepted: records.length, duplicates, unparsed };
      },
    );
  });

  app.get<{ Querystring: SearchQuery }>('/api/v1/logs/search', async (req) => {
    authenticate(deps, req, { role: 'analyst' });
    const r = searchRequest(deps, req.query);
    const page = intParam(req.query.page, 'page', 0, 10_000);
    const size = intParam(req.query.size, 'size', 50, 500);
    return answer(() => searchLogs(service(deps).index, r, page, size));
  });
  app.get<{ Querystring: SearchQuery }>('/api/v1/logs/histogram', async (req) => {
    authenticate(deps, req, { role: 'analyst' });
    const r = searchRequest(deps, req.query);
    return answer(() => histogramOf(service(deps).index, r));
  });
  app.get<{ Querystring: SearchQuery }>('/api/v1/logs/fields', async (req) => {
    authenticate(deps, req, { role: 'analyst' });
    const r = searchRequest(deps, req.query);
    return answer(() => topValues(service(deps).index, r));
  });
  // Log metrics: requests, status classes, bytes and latency percentiles per step, by host or path group.
  app.get<{
    Params: { site: string };
    Querystring: { from?: string; to?: string; by?: string; step?: string; limit?: string };
  }>('/api/v1/sites/:site/logs/metrics', async (req) => {
    authenticate(deps, req, { role: 'analyst' });
    if (!deps.sites.get(req.params.site)) throw new HttpError(404, `no site "${req.params.site}"`);
    const { by } = req.query;
    if (by !== undefined && by !== '' && by !== 'host' && by !== 'path_group')
      throw new HttpError(400, 'by must be host or path_group');
    const to = timeParam(req.query.to, 'to') ?? Date.now();
    const from = timeParam(req.query.from, 'from') ?? to - 3_600_000;
    if (from >= to) throw new HttpError(400, 'from must be before to');
    const step = req.query.step ? stepParam(req.query.step) : null;
    return logMetrics(service(deps).metrics.store, {
      site: req.params.site,
      from,
      to,
      by: by === 'host' || by === 'path_group' ? by : null,
      step,
      limit: intParam(req.query.limit, 'limit', 10, 100) || 10,
    });
  });
}

/** `60s`, `5m`, `1h`, or milliseconds (`300000`); at least a minute, rounded up to whole minutes. */
function stepParam(v: string): number {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new HttpError(400, `step must look like 1m, 5m, 1h or 300s, not "${v}"`);
  const n = Number(m[1]);
  const ms = m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
  if (ms < 60_000) throw new HttpError(400, 'step must be at least 1m (metrics are per minute)');
  return ms;
}

/** Elasticsearch clients (8.x) check this header to know they talk to Elasticsearch. */
function esReply(reply: FastifyReply): FastifyReply {
  return reply.header('x-elastic-product', 'Elasticsearch').type('application/json');
}
