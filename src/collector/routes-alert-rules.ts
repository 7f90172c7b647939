import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { floorMinute, METRICS, RATIOS } from '../alerts/detectors/series.js';
import { METRIC_HELP, parseThresholdRule, type ThresholdRule } from '../alerts/detectors/threshold.js';
import { previewThresholdRule } from '../alerts/rule-preview.js';
import { openAlertDb } from '../alerts/store.js';
import { ThresholdRules } from '../alerts/threshold-rules.js';
import { actorOf } from '../auth/authenticate.js';
import type { AlertDeps } from './routes-alerts.js';
import { authenticate } from './routes-auth.js';
import { HttpError, type ServerDeps } from './server.js';

/** The metrics a rule may name, for the rule editor's list. */
const METRIC_LIST = [
  ...Object.entries(METRICS).map(([name, description]) => ({ name, description })),
  ...Object.entries(RATIOS).map(([name, [num, den]]) => ({ name, description: `${num} / ${den}` })),
  { name: 'errors.<series>', description: 'errors of a log-derived series, e.g. errors.checkout' },
  { name: 'requests.<series>', description: 'requests of a log-derived series' },
  { name: 'error_rate.<series>', description: 'errors.<series> / requests.<series>' },
];

/** Which field a validation message is about, so the editor can show it next to that field. */
export function fieldOf(message: string): string | null {
  const named = /field "(\w+)/.exec(message);
  if (named) return named[1];
  if (message.includes('unknown metric')) return 'metric';
  if (message.includes('time zone')) return 'timeZone';
  if (message.includes('between.')) return 'between';
  if (message.includes('site "')) return 'site';
  return null;
}

function invalid(errors: string[]): HttpError {
  return new HttpError(400, `the rule is not valid: ${errors.join('; ')}`, {
    errors: errors.map((message) => ({ field: fieldOf(message), message })),
  });
}

function parseRule(deps: ServerDeps, body: unknown, id?: string): ThresholdRule {
  let input = body;
  if (id !== undefined && typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const given = (body as { id?: unknown }).id;
    if (given !== undefined && given !== id)
      throw invalid([
        `rule: field "id" is "${String(given)}" but the address names "${id}"; to rename a rule, create a new one and delete this one`,
      ]);
    input = { ...body, id };
  }
  const r = parseThresholdRule(input, 'rule');
  if (!r.ok) throw invalid(r.errors);
  if (r.value.site !== undefined && !deps.sites.get(r.value.site))
    throw invalid([`rule: site "${r.value.site}" does not exist; omit "site" to watch every site`]);
  return r.value;
}

/**
 * Threshold rules on live metrics: everyone signed in reads them, analysts write them and try
 * them on the last 7 days first. Each change reaches the detection engine at once.
 *
 *   GET    /api/v1/alert-rules                 → { rules, metrics }
 *   POST   /api/v1/alert-rules                 ThresholdRule → 201 { rule }; 409 if the id is taken
 *   PUT    /api/v1/alert-rules/:id             ThresholdRule → { rule }
 *   DELETE /api/v1/alert-rules/:id             → 204 (its open alerts resolve)
 *   POST   /api/v1/alert-rules/preview         { rule, site } → RulePreview
 * Invalid rules: 400 { error, details: { errors: [{ field, message }] } }.
 */
export function registerAlertRuleRoutes(app: FastifyInstance, deps: ServerDeps, a: AlertDeps): void {
  // Its own connection to alerts.sqlite: the alert service's is not part of AlertDeps.
  const db = openAlertDb(join(deps.config.dataDir, 'alerts.sqlite'));
  const rules = new ThresholdRules({
    db,
    apply: (list) => a.detection.setThresholdRules(list),
    resolve: (e) => a.manager.process(e),
    sites: () => deps.sites.list().map((s) => s.id),
  });
  app.addHook('onClose', async () => db.close());

  app.get('/api/v1/alert-rules', async (req) => {
    authenticate(deps, req, { role: 'viewer' });
    return { rules: rules.list(), metrics: METRIC_LIST, metricHelp: METRIC_HELP };
  });

  app.post('/api/v1/alert-rules', async (req, reply) => {
    const p = authenticate(deps, req, { role: 'analyst' });
    const rule = parseRule(deps, req.body);
    const r = rules.create(rule, actorOf(p));
    if (!r.ok)
      throw new HttpError(
        409,
        `a rule "${rule.id}" exists already; change it with PUT /api/v1/alert-rules/${rule.id} or pick another id`,
      );
    return reply.code(201).send({ rule: r.rule });
  });

  app.put<{ Params: { id: string } }>('/api/v1/alert-rules/:id', async (req) => {
    const p = authenticate(deps, req, { role: 'analyst' });
    const r = rules.replace(parseRule(deps, req.body, req.params.id), actorOf(p));
    if (!r.ok)
      throw new HttpError(404, `no rule "${req.params.id}"; create it with POST /api/v1/alert-rules`);
    return { rule: r.rule };
  });

  app.delete<{ Params: { id: string } }>('/api/v1/alert-rules/:id', async (req, reply) => {
    authenticate(deps, req, { role: 'analyst' });
    if (!rules.remove(req.params.id)) throw new HttpError(404, `no rule "${req.params.id}"`);
    return reply.code(204).send();
  });

  // Read-only, but part of writing a rule: the same role as saving one.
  app.post('/api/v1/alert-rules/preview', async (req) => {
    authenticate(deps, req, { role: 'analyst' });
    const b = (req.body ?? {}) as { rule?: unknown; site?: unknown };
    if (typeof b.site !== 'string' || !deps.sites.get(b.site))
      throw new HttpError(400, 'send {"rule": {…}, "site": "<an existing site id>"}');
    const draft =
      typeof b.rule === 'object' && b.rule !== null && !Array.isArray(b.rule) && !('id' in b.rule)
        ? { ...b.rule, id: 'preview' } // an unsaved rule may not have its id yet
        : b.rule;
    const rule = parseRule(deps, draft);
    const site = b.site;
    const held = a.detection.status().sites.find((s) => s.site === site)?.history;
    return previewThresholdRule({
      rule,
      site,
      points: (metric, from, to) => a.detection.points(site, metric, from, to),
      to: held?.to ?? floorMinute(Date.now()),
    });
  });
}
