import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DetectionEngine } from '../alerts/engine.js';
import type { AlertManager, Matchers } from '../alerts/manager.js';
import { CHANNEL_TYPES, type ChannelType, type Notifier } from '../alerts/notifier.js';
import type { Severity } from '../alerts/types.js';
import { actorOf } from '../auth/authenticate.js';
import { checkTargetUrl, TargetRefused } from '../notify/http-target.js';
import { EMAIL_ADDRESS } from '../notify/mailer.js';
import { authenticate } from './routes-auth.js';
import { HttpError, type ServerDeps } from './server.js';

export interface AlertDeps {
  manager: AlertManager;
  notifier: Notifier;
  detection: DetectionEngine;
}

const SEVERITIES: readonly Severity[] = ['info', 'warning', 'critical'];

function siteOf(deps: ServerDeps, site: string): string {
  if (!deps.sites.get(site)) throw new HttpError(404, `no site "${site}"`);
  return site;
}

const time = (v: unknown, name: string): number | undefined => {
  if (v === undefined || v === '') return undefined;
  const t = typeof v === 'number' ? v : /^\d+$/.test(String(v)) ? Number(v) : Date.parse(String(v));
  if (!Number.isFinite(t)) throw new HttpError(400, `${name} must be an ISO-8601 time or epoch ms`);
  return t;
};

/**
 * Alerts: everyone signed in sees them; analysts acknowledge and silence; admins manage the
 * channels notifications go to (a webhook's signing secret is shown once, when it is created).
 */
export function registerAlertRoutes(app: FastifyInstance, deps: ServerDeps, a: AlertDeps): void {
  app.get<{ Querystring: { site?: string; state?: string } }>('/api/v1/alerts', async (req) => {
    authenticate(deps, req, { role: 'viewer' });
    const state = req.query.state;
    if (state !== undefined && state !== 'pending' && state !== 'firing' && state !== 'resolved')
      throw new HttpError(400, 'state must be pending, firing or resolved');
    return { alerts: a.manager.alerts({ site: req.query.site, state }) };
  });

  app.get<{ Querystring: { site?: string; from?: string; to?: string; limit?: string } }>(
    '/api/v1/alerts/history',
    async (req) => {
      authenticate(deps, req, { role: 'viewer' });
      const q = req.query;
      const limit = q.limit === undefined ? undefined : Number(q.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
        throw new HttpError(400, 'limit must be a positive whole number');
      return {
        history: a.manager.history({ site: q.site, from: time(q.from, 'from'), to: time(q.to, 'to'), limit }),
      };
    },
  );

  app.post<{ Params: { fingerprint: string } }>('/api/v1/alerts/:fingerprint/ack', async (req, reply) => {
    const p = authenticate(deps, req, { role: 'analyst' });
    if (!a.manager.acknowledge(req.params.fingerprint, actorOf(p)))
      throw new HttpError(404, `no open alert ${req.params.fingerprint}`);
    return reply.code(204).send();
  });

  // DDoS and bots: who is flooding or scraping now, with evidence, and a blocklist to act on it.
  app.get<{ Params: { site: string } }>('/api/v1/sites/:site/offenders', async (req) => {
    authenticate(deps, req, { role: 'viewer' });
    return { offenders: a.detection.offenders(siteOf(deps, req.params.site)) };
  });

  app.get<{ Params: { site: string }; Querystring: { format?: string } }>(
    '/api/v1/sites/:site/blocklist',
    async (req, reply) => {
      authenticate(deps, req, { role: 'viewer' });
      const site = siteOf(deps, req.params.site);
      const format = req.query.format ?? 'plain';
      if (format !== 'plain' && format !== 'nginx') throw new HttpError(400, 'format must be plain or nginx');
      return reply
        .type('text/plain; charset=utf-8')
        .header(
          'content-disposition',
          `attachment; filename="storepulse-${site}-blocklist${format === 'nginx' ? '.conf' : '.txt'}"`,
        )
        .send(a.detection.blocklist(site, format));
    },
  );

  // The per-minute series a detector watches, for the chart next to an alert.
  app.get<{
    Params: { site: string };
    Querystring: { metric?: string; from?: string; to?: string; window?: string };
  }>('/api/v1/sites/:site/alert-series', async (req) => {
    authenticate(deps, req, { role: 'viewer' });
    const site = siteOf(deps, req.params.site);
    const to = time(req.query.to, 'to') ?? Date.now();
    const from = time(req.query.from, 'from') ?? to - 6 * 3_600_000;
    if (to - from > 8 * 86_400_000) throw new HttpError(400, 'at most 8 days at a time');
    const window = req.query.window === undefined ? undefined : Number(req.query.window);
    if (window !== undefined && !(Number.isInteger(window) && window >= 1 && window <= 1440))
      throw new HttpError(400, 'window must be a whole number of minutes from 1 to 1440');
    return {
      site,
      metric: req.query.metric ?? 'orders',
      window: window ?? 1,
      // `logs.<series>`: the log-derived minutes the log_errors rule watches (src/logs/metrics).
      points: req.query.metric?.startsWith('logs.')
        ? (deps.logs?.metrics.points(site, req.query.metric, from, to, window) ?? [])
        : a.detection.points(site, req.query.metric ?? 'orders', from, to, window),
    };
  });

  app.get('/api/v1/silences', async (req) => {
    authenticate(deps, req, { role: 'viewer' });
    return { silences: a.manager.silences(Date.now(), { all: true }) };
  });

  app.post('/api/v1/silences', async (req, reply) => {
    const p = authenticate(deps, req, { role: 'analyst' });
    const b = (req.body ?? {}) as Record<string, unknown>;
    const usage =
      'send {"matchers": {"site": "shop", "alertname": "order_rate_anomaly"}, "endsAt": "<ISO time>", "startsAt"?: …, "kind"?: "silence" | "maintenance", "comment": "why"}';
    const kind = b.kind ?? 'silence';
    if (kind !== 'silence' && kind !== 'maintenance')
      throw new HttpError(400, `kind must be silence or maintenance; ${usage}`);
    const matchers = b.matchers as Matchers | undefined;
    if (
      !matchers ||
      typeof matchers !== 'object' ||
      Object.keys(matchers).length === 0 ||
      !Object.values(matchers).every((v) => typeof v === 'string')
    )
      throw new HttpError(400, `matchers must name at least one label with a text value; ${usage}`);
    for (const v of Object.values(matchers)) {
      if (!v.startsWith('~')) continue;
      try {
        new RegExp(v.slice(1));
      } catch (err) {
        throw new HttpError(400, `matcher ${v} is not a valid regular expression: ${(err as Error).message}`);
      }
    }
    const startsAt = time(b.startsAt, 'startsAt') ?? Date.now();
    const endsAt = time(b.endsAt, 'endsAt');
    if (endsAt === undefined || endsAt <= startsAt)
      throw new HttpError(400, `endsAt must be after startsAt; ${usage}`);
    if (typeof b.comment !== 'string' || b.comment.trim() === '')
      throw new HttpError(400, `say why in "comment"; ${usage}`);
    const silence = a.manager.addSilence({
      kind,
      matchers,
      startsAt,
      endsAt,
      author: actorOf(p),
      comment: b.comment.trim().slice(0, 500),
    });
    return reply.code(201).send(silence);
  });

  app.delete<{ Params: { id: string } }>('/api/v1/silences/:id', async (req, reply) => {
    authenticate(deps, req, { role: 'analyst' });
    if (!a.manager.expireSilence(req.params.id)) throw new HttpError(404, `no silence ${req.params.id}`);
    return reply.code(204).send();
  });

  app.get('/api/v1/alert-channels', async (req) => {
    authenticate(deps, req, { role: 'admin' });
    return { channels: a.notifier.channels(), failures: a.notifier.failures() };
  });

  app.post('/api/v1/alert-channels', async (req, reply) => {
    const p = authenticate(deps, req, { role: 'admin' });
    const c = validateChannel(deps, req);
    const { channel, secret } = a.notifier.addChannel({ ...c, createdBy: actorOf(p) });
    return reply.code(201).send({ channel, ...(secret ? { secret } : {}) });
  });

  app.delete<{ Params: { id: string } }>('/api/v1/alert-channels/:id', async (req, reply) => {
    authenticate(deps, req, { role: 'admin' });
    if (!a.notifier.removeChannel(req.params.id)) throw new HttpError(404, `no channel ${req.params.id}`);
    return reply.code(204).send();
  });

  // A test message, so a new channel can be checked before a real incident.
  app.post<{ Params: { id: string } }>('/api/v1/alert-channels/:id/test', async (req, reply) => {
    const p = authenticate(deps, req, { role: 'admin' });
    const channel = a.notifier.channels().find((c) => c.id === req.params.id);
    if (!channel) throw new HttpError(404, `no channel ${req.params.id}`);
    const now = Date.now();
    try {
      const detail = await a.notifier.send(channel, [
        {
          kind: 'firing',
          key: `test:${now}`,
          alert: {
            fingerprint: 'test',
            rule: 'test',
            site: channel.sites[0] ?? 'test',
            labels: { alertname: 'storepulse_test', site: channel.sites[0] ?? 'test' },
            severity: 'info',
            state: 'firing',
            summary: `Test notification from storepulse, sent by ${actorOf(p)}`,
            since: now,
            firingSince: now,
            resolvedAt: null,
            lastSeen: now,
          },
        },
      ]);
      return { ok: true, detail };
    } catch (err) {
      return reply.code(502).send({ ok: false, error: (err as Error).message });
    }
  });
}

function validateChannel(deps: ServerDeps, req: FastifyRequest) {
  const b = (req.body ?? {}) as Record<string, unknown>;
  const usage =
    'send {"name", "type": "webhook" | "slack" | "email" | "alertmanager", "target": URL or e-mail addresses, "minSeverity"?: "info" | "warning" | "critical", "sites"?: ["shop"]}';
  if (typeof b.name !== 'string' || b.name.trim() === '')
    throw new HttpError(400, `name is missing; ${usage}`);
  if (!CHANNEL_TYPES.includes(b.type as ChannelType))
    throw new HttpError(400, `unknown type ${JSON.stringify(b.type)}; ${usage}`);
  if (typeof b.target !== 'string' || b.target.trim() === '')
    throw new HttpError(400, `target is missing; ${usage}`);
  const type = b.type as ChannelType;
  const target = b.target.trim();
  if (type === 'email') {
    const bad = target.split(',').filter((x) => !EMAIL_ADDRESS.test(x.trim()));
    if (bad.length > 0) throw new HttpError(400, `not e-mail addresses: ${bad.join(', ')}`);
  } else {
    try {
      checkTargetUrl(target, { allowNetworks: deps.config.notify.allowNetworks });
    } catch (err) {
      if (err instanceof TargetRefused) throw new HttpError(400, err.message);
      throw err;
    }
  }
  const minSeverity = (b.minSeverity ?? 'warning') as Severity;
  if (!SEVERITIES.includes(minSeverity))
    throw new HttpError(400, `minSeverity must be one of ${SEVERITIES.join(', ')}`);
  const sites = (b.sites ?? []) as unknown[];
  if (!Array.isArray(sites) || !sites.every((s) => typeof s === 'string' && deps.sites.get(s)))
    throw new HttpError(400, 'sites must list existing site ids (or be empty for all)');
  return { name: b.name.trim().slice(0, 100), type, target, minSeverity, sites: sites as string[] };
}
