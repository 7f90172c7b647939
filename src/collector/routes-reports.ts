import type { FastifyInstance, FastifyRequest } from 'fastify';
import { reportCsv, reportFilename } from '../reports/csv.js';
import { ReportError } from '../reports/report-error.js';
import type { ReportList } from '../reports/types.js';
import { authenticate } from './routes-auth.js';
import { HttpError, type ServerDeps } from './server.js';

const STATUS: Record<ReportError['code'], number> = {
  bad_parameter: 400,
  unknown_report: 404,
  timeout: 408,
  preparing: 503,
};

function siteOf(deps: ServerDeps, site: string): string {
  if (!deps.sites.get(site))
    throw new HttpError(404, `no site "${site.slice(0, 60)}"; list sites with \`storepulse sites list\``);
  return site;
}

/** `format=csv`, or no format and an Accept header asking for text/csv. */
function wantsCsv(req: FastifyRequest, format: unknown): boolean {
  if (format === undefined) return /\btext\/csv\b/.test(req.headers.accept ?? '');
  if (format === 'csv') return true;
  if (format === 'json') return false;
  throw new ReportError('format must be json or csv', 'bad_parameter', 'format');
}

/** Store reports (src/reports): the list, and one report as JSON or a CSV download. Viewers may read them. */
export function registerReportRoutes(app: FastifyInstance, deps: ServerDeps): void {
  app.get<{ Params: { site: string } }>('/api/v1/sites/:site/reports', async (req): Promise<ReportList> => {
    authenticate(deps, req, { role: 'viewer' });
    return { site: siteOf(deps, req.params.site), reports: deps.reports.list() };
  });

  app.get<{ Params: { site: string; id: string }; Querystring: Record<string, unknown> }>(
    '/api/v1/sites/:site/reports/:id',
    async (req, reply) => {
      authenticate(deps, req, { role: 'viewer' });
      const site = siteOf(deps, req.params.site);
      const { format, ...params } = req.query ?? {};
      try {
        const csv = wantsCsv(req, format);
        const answer = await deps.reports.run(site, req.params.id, params);
        if (!csv) return answer;
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${reportFilename(site, answer)}"`)
          .send(reportCsv(answer));
      } catch (err) {
        if (!(err instanceof ReportError)) throw err;
        if (err.code === 'preparing') reply.header('retry-after', '30');
        return reply
          .code(STATUS[err.code])
          .send({ error: err.message, ...(err.parameter ? { parameter: err.parameter } : {}) });
      }
    },
  );
}
