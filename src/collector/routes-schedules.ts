import type { FastifyInstance } from 'fastify';
import { actorOf } from '../auth/authenticate.js';
import { checkTargetUrl, TargetRefused } from '../notify/http-target.js';
import { EMAIL_ADDRESS } from '../notify/mailer.js';
import type { ReportScheduler, ReportSource } from '../reports/scheduler.js';
import type { ReportSchedules, ScheduleInput } from '../reports/schedules.js';
import { authenticate } from './routes-auth.js';
import { HttpError, type ServerDeps } from './server.js';

export interface ScheduleDeps {
  schedules: ReportSchedules;
  scheduler: ReportScheduler;
  reports: ReportSource;
}

const USAGE =
  'send {"site", "report", "cadence": "daily"|"weekly", "hour": 0-23, "weekday": 0-6 (weekly, 0 = Sunday), "channel": "email"|"webhook", "target": "a@x.com, b@y.com" | "https://…", "params": {…}}';

/**
 * Scheduled reports: analysts create and remove them, anyone signed in sees them. A webhook's
 * signing secret is shown once, in the answer that creates it.
 */
export function registerScheduleRoutes(app: FastifyInstance, deps: ServerDeps, s: ScheduleDeps): void {
  app.get<{ Querystring: { site?: string } }>('/api/v1/report-schedules', async (req) => {
    authenticate(deps, req, { role: 'viewer' });
    return { schedules: s.schedules.list(req.query.site) };
  });

  app.post('/api/v1/report-schedules', async (req, reply) => {
    const p = authenticate(deps, req, { role: 'analyst' });
    const input = validate(deps, s, req.body);
    const { schedule, secret } = s.schedules.create(input, actorOf(p));
    return reply.code(201).send({ schedule, ...(secret ? { secret } : {}) });
  });

  app.delete<{ Params: { id: string } }>('/api/v1/report-schedules/:id', async (req, reply) => {
    const p = authenticate(deps, req, { role: 'analyst' });
    const found = s.schedules.get(req.params.id);
    if (!found) throw new HttpError(404, `no report schedule ${req.params.id}`);
    const isAdmin = p.kind === 'api-key' ? p.key.scopes.includes('admin') : p.user.role === 'admin';
    if (found.createdBy !== actorOf(p) && !isAdmin)
      throw new HttpError(403, `only ${found.createdBy} or an admin may remove this schedule`);
    s.schedules.remove(found.id);
    return reply.code(204).send();
  });

  // Sends now, e.g. to try a new schedule: the period that ended at the start of today, or the
  // one a send at `at` would cover (to send a past day or week again).
  app.post<{ Params: { id: string } }>('/api/v1/report-schedules/:id/send', async (req, reply) => {
    authenticate(deps, req, { role: 'analyst' });
    const found = s.schedules.get(req.params.id);
    if (!found) throw new HttpError(404, `no report schedule ${req.params.id}`);
    const rawAt = (req.body as { at?: unknown } | null)?.at;
    const at = rawAt === undefined ? Date.now() : Date.parse(String(rawAt));
    if (!Number.isFinite(at))
      throw new HttpError(400, 'at must be an ISO-8601 time, e.g. {"at": "2026-12-01T06:00:00Z"}');
    const result = await s.scheduler.send(found, at);
    return reply.code(result.ok ? 200 : 502).send({ ...result, schedule: s.schedules.get(found.id) });
  });
}

function validate(deps: ServerDeps, s: ScheduleDeps, body: unknown): ScheduleInput {
  const b = (body ?? {}) as Record<string, unknown>;
  const fail = (why: string): never => {
    throw new HttpError(400, `${why}; ${USAGE}`);
  };
  if (typeof b.site !== 'string' || !deps.sites.get(b.site)) fail(`unknown site ${JSON.stringify(b.site)}`);
  const report = s.reports.list().find((r) => r.id === b.report);
  if (!report)
    fail(
      `unknown report ${JSON.stringify(b.report)} (one of ${s.reports
        .list()
        .map((r) => r.id)
        .join(', ')})`,
    );
  if (b.cadence !== 'daily' && b.cadence !== 'weekly') fail('cadence must be daily or weekly');
  const hour = b.hour ?? 6;
  if (!Number.isInteger(hour) || (hour as number) < 0 || (hour as number) > 23)
    fail('hour must be 0-23 (UTC)');
  const weekday = b.cadence === 'weekly' ? (b.weekday ?? 1) : null;
  if (weekday !== null && (!Number.isInteger(weekday) || (weekday as number) < 0 || (weekday as number) > 6))
    fail('weekday must be 0-6 (0 = Sunday)');
  if (b.channel !== 'email' && b.channel !== 'webhook') fail('channel must be email or webhook');
  if (typeof b.target !== 'string' || b.target.trim() === '') fail('target is missing');
  const target = (b.target as string).trim();
  if (b.channel === 'email') {
    const bad = target.split(',').filter((a) => !EMAIL_ADDRESS.test(a.trim()));
    if (bad.length > 0) fail(`not e-mail addresses: ${bad.join(', ')}`);
  } else {
    try {
      checkTargetUrl(target, { allowNetworks: deps.config.notify.allowNetworks });
    } catch (err) {
      if (err instanceof TargetRefused) throw new HttpError(400, err.message);
      throw err;
    }
  }
  const params = (b.params ?? {}) as Record<string, unknown>;
  if (typeof params !== 'object' || Array.isArray(params)) fail('params must be an object');
  const known = new Set(report!.parameters.map((x) => x.name));
  for (const [k, v] of Object.entries(params)) {
    if (k === 'from' || k === 'to') fail('from/to are set by the cadence (the day or week before each send)');
    if (!known.has(k)) fail(`report ${report!.id} has no parameter "${k}"`);
    if (typeof v !== 'string' && typeof v !== 'number') fail(`parameter ${k} must be text or a number`);
  }
  return {
    site: b.site as string,
    report: report!.id,
    params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])),
    cadence: b.cadence as ScheduleInput['cadence'],
    hour: hour as number,
    weekday: weekday as number | null,
    channel: b.channel as ScheduleInput['channel'],
    target,
  };
}
