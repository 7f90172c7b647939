import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { QueryStatus } from '../query/query-history.js';
import { exportQueryResult, isExportFormat } from '../query/result-export.js';
import { isQueryId } from '../query/running-queries.js';
import { QueryError } from '../query/sandbox.js';
import { parseSavedQuery, type SavedQueryInput } from '../query/saved-queries.js';
import { callerOf } from '../query/services.js';
import { authenticate } from './routes-auth.js';
import { HttpError, type ServerDeps } from './server.js';

const QUERY_STATUS: Record<QueryError['code'], number> = {
  refused: 403,
  invalid: 400,
  timeout: 408,
  // Stopped by the user's own Cancel (POST /api/v1/query/:queryId/cancel).
  cancelled: 409,
  failed: 422,
};

const HISTORY_STATUS: Record<QueryError['code'], QueryStatus> = {
  refused: 'refused',
  invalid: 'error',
  timeout: 'timeout',
  cancelled: 'cancelled',
  failed: 'error',
};

/** Each download runs in a DuckDB instance of its own; a few at a time keep memory bounded. */
const MAX_CONCURRENT_EXPORTS = 2;

interface QueryBody {
  sql: string;
  queryId?: string;
}

function parseQueryBody(body: unknown): QueryBody & Record<string, unknown> {
  const b = body as Record<string, unknown> | null;
  if (!b || typeof b !== 'object' || typeof b.sql !== 'string' || b.sql.trim() === '') {
    throw new HttpError(400, 'send {"sql": "SELECT …"}');
  }
  if (b.queryId !== undefined && !isQueryId(b.queryId)) {
    throw new HttpError(400, '"queryId" must be 1–64 letters, digits, "-" or "_"');
  }
  return b as QueryBody & Record<string, unknown>;
}

/**
 * The SQL console's API: run (cancellable by a client-chosen `queryId`), cancel, download the
 * whole result as CSV or Parquet, each user's history, and saved queries shared in the team.
 * Results come back whole up to `query.maxRows`; the dashboard pages them in the browser.
 */
export function registerSqlRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { running, history, saved } = deps.queries;

  /** Registers the query under its id (if any) for Cancel, and runs `fn` with its signal. */
  async function cancellable<T>(
    caller: ReturnType<typeof callerOf>,
    queryId: string | undefined,
    fn: (signal?: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (!queryId) return fn();
    const handle = running.start({ id: caller.id, admin: caller.role === 'admin' }, queryId);
    if (!handle) throw new HttpError(409, `a query with id ${queryId} is already running; use a new id`);
    try {
      return await fn(handle.signal);
    } finally {
      handle.finish();
    }
  }

  const queryFailure = (reply: FastifyReply, err: QueryError) =>
    reply.code(QUERY_STATUS[err.code]).send({ error: err.message, code: err.code });

  app.post('/api/v1/query', async (req, reply) => {
    const caller = callerOf(authenticate(deps, req, { role: 'analyst' }));
    const body = parseQueryBody(req.body);
    const startedAt = Date.now();
    const record = (status: QueryStatus, rows: number | null, error: string | null) =>
      history.record(caller.id, {
        sql: body.sql,
        startedAt,
        elapsedMs: Date.now() - startedAt,
        rows,
        status,
        error,
      });
    try {
      const result = await cancellable(caller, body.queryId, (signal) =>
        deps.sandbox.query(body.sql, {
          maxRows: typeof body.maxRows === 'number' ? body.maxRows : undefined,
          signal,
        }),
      );
      record('ok', result.rows.length, null);
      return result;
    } catch (err) {
      if (!(err instanceof QueryError)) throw err;
      record(HISTORY_STATUS[err.code], null, err.message);
      return queryFailure(reply, err);
    }
  });

  app.post<{ Params: { queryId: string } }>('/api/v1/query/:queryId/cancel', async (req) => {
    const caller = callerOf(authenticate(deps, req, { role: 'analyst' }));
    const outcome = running.cancel({ id: caller.id, admin: caller.role === 'admin' }, req.params.queryId);
    if (!outcome.ok) throw new HttpError(outcome.status, outcome.reason);
    return { cancelled: true };
  });

  let exporting = 0;
  app.post('/api/v1/query/export', async (req, reply) => {
    const caller = callerOf(authenticate(deps, req, { role: 'analyst' }));
    const body = parseQueryBody(req.body);
    const format = body.format ?? 'csv';
    if (!isExportFormat(format)) throw new HttpError(400, '"format" must be "csv" or "parquet"');
    if (exporting >= MAX_CONCURRENT_EXPORTS) {
      reply.header('retry-after', '5');
      throw new HttpError(429, `${exporting} downloads are being prepared; try again in a few seconds`);
    }
    exporting++;
    let file: Awaited<ReturnType<typeof exportQueryResult>>;
    try {
      file = await cancellable(caller, body.queryId, (signal) =>
        exportQueryResult({
          dataDir: deps.config.dataDir,
          sql: body.sql,
          format,
          timeoutMs: deps.config.query.timeoutMs,
          memoryLimit: deps.config.query.memoryLimit,
          signal,
        }),
      );
    } catch (err) {
      if (err instanceof QueryError) return queryFailure(reply, err);
      throw err;
    } finally {
      exporting--;
    }
    const stream = createReadStream(file.path);
    // Deleted once sent, or once the client goes away.
    stream.on('close', file.cleanup);
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
    return reply
      .type(file.contentType)
      .header('content-disposition', `attachment; filename="storepulse-query-${stamp}.${format}"`)
      .header('x-row-count', String(file.rows))
      .header('x-row-limit-reached', String(file.limitReached))
      .send(stream);
  });

  app.get('/api/v1/query/history', async (req) => {
    const caller = callerOf(authenticate(deps, req, { role: 'analyst' }));
    const limit = Number((req.query as Record<string, unknown>).limit ?? 100);
    return { entries: history.list(caller.id, Number.isFinite(limit) ? limit : 100) };
  });

  app.get('/api/v1/saved-queries', async (req) => {
    const caller = callerOf(authenticate(deps, req, { role: 'viewer' }));
    return { queries: saved.list(caller) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/saved-queries/:id', async (req) => {
    const caller = callerOf(authenticate(deps, req, { role: 'viewer' }));
    const r = saved.get(caller, req.params.id);
    if (!r.ok) throw new HttpError(r.status, r.reason);
    return r.value;
  });

  app.post('/api/v1/saved-queries', async (req, reply) => {
    const caller = callerOf(authenticate(deps, req, { role: 'analyst' }));
    const input = parseSavedQuery(req.body, false);
    if (!input.ok) throw new HttpError(input.status, input.reason);
    return reply.code(201).send(saved.create(caller, input.value as SavedQueryInput));
  });

  app.patch<{ Params: { id: string } }>('/api/v1/saved-queries/:id', async (req) => {
    const caller = callerOf(authenticate(deps, req, { role: 'analyst' }));
    const patch = parseSavedQuery(req.body, true);
    if (!patch.ok) throw new HttpError(patch.status, patch.reason);
    const r = saved.update(caller, req.params.id, patch.value);
    if (!r.ok) throw new HttpError(r.status, r.reason);
    return r.value;
  });

  app.delete<{ Params: { id: string } }>('/api/v1/saved-queries/:id', async (req, reply) => {
    const caller = callerOf(authenticate(deps, req, { role: 'analyst' }));
    const r = saved.remove(caller, req.params.id);
    if (!r.ok) throw new HttpError(r.status, r.reason);
    return reply.code(204).send();
  });
}
