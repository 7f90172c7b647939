import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { ApiKeys, Scope } from '../auth/api-keys.js';
import type { AuthServices } from '../auth/services.js';
import { originAllowed, type Site, type SiteRegistry } from '../auth/sites.js';
import type { LakeCatalog } from '../catalog/catalog.js';
import type { Config } from '../config/schema.js';
import type { IngestContext } from '../events/normalise.js';
import type { DailySalt } from '../events/salts.js';
import type { LogsService } from '../logs/logs-service.js';
import type { Metrics } from '../ops/metrics.js';
import type { OrderStore } from '../orders/order-store.js';
import type { QuerySandbox } from '../query/sandbox.js';
import type { QueryServices } from '../query/services.js';
import type { RealtimeProcessor } from '../realtime/processor.js';
import type { ReportEngine } from '../reports/engine.js';
import type { EventLog } from '../stream/event-log.js';
import { badRecord, quarantine } from './ingest.js';
import { registerAlertRuleRoutes } from './routes-alert-rules.js';
import { type AlertDeps, registerAlertRoutes } from './routes-alerts.js';
import { registerApiRoutes } from './routes-api.js';
import { registerAuthRoutes } from './routes-auth.js';
import { registerCatalogRoutes } from './routes-catalog.js';
import { registerCollectRoutes } from './routes-collect.js';
import { registerLogRoutes } from './routes-logs.js';
import { registerOpsRoutes } from './routes-ops.js';
import { registerOrderRoutes } from './routes-orders.js';
import { registerRealtimeRoutes } from './routes-realtime.js';
import { type RecsDeps, registerRecsRoutes } from './routes-recs.js';
import { registerReportRoutes } from './routes-reports.js';
import { registerScheduleRoutes, type ScheduleDeps } from './routes-schedules.js';
import { registerSqlRoutes } from './routes-sql.js';
import { registerUserRoutes } from './routes-users.js';
import { registerWebRoutes } from './routes-web.js';

export interface ServerDeps {
  config: Config;
  log: EventLog;
  sites: SiteRegistry;
  apiKeys: ApiKeys;
  auth: AuthServices;
  salt: DailySalt;
  sandbox: QuerySandbox;
  /** SQL console: running queries (cancel), history, saved queries. */
  queries: QueryServices;
  catalog: LakeCatalog;
  metrics: Metrics;
  realtime: RealtimeProcessor;
  orders: OrderStore;
  reports: ReportEngine;
  scheduling: ScheduleDeps;
  alerting: AlertDeps;
  /** Log ingest and search (absent in servers built without it). */
  logs?: LogsService;
  /** Recommendations: the served models and retraining (absent in servers built without them). */
  recs?: RecsDeps;
  ready: () => { ready: boolean; checks: Record<string, boolean> };
  trackerJs: string;
}

/** An HTTP error with a status and a message that tells the caller what to do. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** A body that could not be decoded: kept so the handler can quarantine it once it knows the site. */
export interface InvalidBody {
  __invalid: string;
  raw: string;
}
export const isInvalidBody = (b: unknown): b is InvalidBody =>
  typeof b === 'object' && b !== null && '__invalid' in b;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJsonBody(body: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return {
      __invalid: 'body is not valid UTF-8',
      raw: `base64:${body.subarray(0, 48 * 1024).toString('base64')}`,
    };
  }
  if (text.trim() === '') return { __invalid: 'body is empty; send a JSON event or batch', raw: '' };
  try {
    return JSON.parse(text);
  } catch (err) {
    return { __invalid: `malformed JSON: ${(err as Error).message}`, raw: text };
  }
}

/** Write key from `Authorization: Bearer`, Segment's `Basic key:`, `X-Write-Key`, or `?k=` (sendBeacon and pixels cannot set headers). */
export function writeKeyOf(req: FastifyRequest): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  if (auth?.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    return decoded.split(':')[0] || null;
  }
  const header = req.headers['x-write-key'];
  if (typeof header === 'string') return header;
  const q = req.query as Record<string, unknown>;
  if (typeof q?.k === 'string') return q.k;
  const body = req.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object' && typeof body.write_key === 'string') return body.write_key;
  if (body && typeof body === 'object' && typeof body.writeKey === 'string') return body.writeKey;
  return null;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    logger: config.server.logLevel === 'silent' ? false : { level: config.server.logLevel },
    bodyLimit: config.server.bodyLimitBytes,
    trustProxy: config.server.trustProxy,
    // Live (SSE) connections never go idle; close them on shutdown instead of waiting.
    forceCloseConnections: true,
    // A log line per request would cost more than storing the event; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.removeAllContentTypeParsers();
  // sendBeacon sends text/plain to avoid a CORS preflight; both carry JSON.
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, parseJsonBody(body as Buffer)),
  );
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) =>
    done(null, parseJsonBody(body as Buffer)),
  );

  // CORS for the tracker: any origin may ask; the site's allow-list is enforced once the write key is known.
  app.addHook('onRequest', async (req, reply) => {
    const origin = req.headers.origin;
    if (
      origin &&
      (req.url.startsWith('/api/v1/events') || req.url.startsWith('/t.gif') || req.url.startsWith('/v1/'))
    ) {
      reply.header('access-control-allow-origin', origin);
      reply.header('vary', 'Origin');
      reply.header('access-control-allow-headers', 'content-type, authorization, x-write-key');
      reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
      reply.header('access-control-max-age', '86400');
    }
    reply.header('x-content-type-options', 'nosniff');
  });
  app.options('/*', async (_req, reply) => reply.code(204).send());

  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof HttpError) {
      return reply
        .code(err.statusCode)
        .send({ error: err.message, ...(err.details ? { details: err.details } : {}) });
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const key = writeKeyOf(req);
      const site = key ? deps.sites.byWriteKey(key) : null;
      const reason = `body larger than ${config.server.bodyLimitBytes} bytes; split it into batches of at most ${config.server.maxBatch} events`;
      if (site) {
        await quarantine(deps.log, [
          badRecord({
            site_id: site.id,
            source: sourceOf(req.url),
            reason,
            raw: `(body not kept: ${req.headers['content-length'] ?? '?'} bytes)`,
          }),
        ]);
        deps.metrics.rejected(site.id, sourceOf(req.url), 1);
      }
      return reply.code(413).send({ error: reason });
    }
    if (err.statusCode && err.statusCode < 500)
      return reply.code(err.statusCode).send({ error: err.message });
    req.log.error({ err }, 'request failed');
    return reply.code(503).send({ error: 'storepulse could not store this request; retry with backoff' });
  });

  await registerAuthRoutes(app, deps);
  registerUserRoutes(app, deps);
  registerCollectRoutes(app, deps);
  registerApiRoutes(app, deps);
  registerSqlRoutes(app, deps);
  registerCatalogRoutes(app, deps);
  registerRealtimeRoutes(app, deps);
  registerReportRoutes(app, deps);
  registerScheduleRoutes(app, deps, deps.scheduling);
  registerAlertRoutes(app, deps, deps.alerting);
  registerAlertRuleRoutes(app, deps, deps.alerting);
  registerOpsRoutes(app, deps);
  registerOrderRoutes(app, deps);
  registerLogRoutes(app, deps);
  if (deps.recs) registerRecsRoutes(app, deps, deps.recs);
  registerWebRoutes(app);
  return app;
}

/** Which sender a request comes from; sp.js marks its posts with `?src=js`. */
export function sourceOf(url: string): 'segment' | 'pixel' | 'js' | 'api' {
  if (url.startsWith('/v1/')) return 'segment';
  if (url.startsWith('/t.gif')) return 'pixel';
  if (/[?&]src=js(&|$)/.test(url)) return 'js';
  return 'api';
}

/** Resolves the site from the write key and checks the browser origin. */
export function authenticateSite(deps: ServerDeps, req: FastifyRequest): Site {
  const key = writeKeyOf(req);
  if (!key) {
    throw new HttpError(
      401,
      'missing write key: send Authorization: Bearer <write key> (or Basic for Segment SDKs, or ?k=)',
    );
  }
  const site = deps.sites.byWriteKey(key);
  if (!site) throw new HttpError(401, 'unknown write key; list keys with `storepulse sites list`');
  if (!originAllowed(site, req.headers.origin)) {
    throw new HttpError(
      403,
      `origin ${req.headers.origin} is not allowed for site ${site.id}; add it to the site's origins`,
    );
  }
  return site;
}

export function requireApiKey(deps: ServerDeps, req: FastifyRequest, scope: Scope) {
  const auth = req.headers.authorization;
  const key = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : null;
  if (!key)
    throw new HttpError(
      401,
      'missing API key: send Authorization: Bearer <key> (create one with `storepulse keys create`)',
    );
  const info = deps.apiKeys.verify(key, scope);
  if (!info) throw new HttpError(403, `API key is unknown, revoked, or lacks the "${scope}" scope`);
  return info;
}

export function ingestContext(
  deps: ServerDeps,
  req: FastifyRequest,
  site: Site,
  source: IngestContext['source'],
): IngestContext {
  const { ingest } = deps.config;
  return {
    siteId: site.id,
    source,
    receivedAt: Date.now(),
    ip: req.ip ?? null,
    userAgent: req.headers['user-agent'] ?? null,
    salt: deps.salt.current(),
    anonymizeIp: ingest.anonymizeIp,
    maxFutureMs: ingest.maxFutureSeconds * 1000,
    maxPastMs: ingest.maxPastDays * 86_400_000,
  };
}

export type Reply = FastifyReply;
