import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type DemoDataDir, demoDataDir } from '../testing/demo-history.js';
import { runCli, type ServerProcess, sql, startServer } from '../testing/server-process.js';

const PASSWORD = 'gravel lantern orbit 42';
const MINUTE = 60_000;

interface Preview {
  from: number;
  to: number;
  evaluated: number;
  firedMinutes: number;
  intervals: { start: number; end: number; peak: number; open: boolean }[];
  series: [number, number | null][];
}
interface ApiError {
  error: string;
  details?: { errors: { field: string | null; message: string }[] };
}

/**
 * Threshold rules over HTTP on a real server whose detection engine loaded 8 days of the demo
 * store from the lake: validation errors name the field, viewers read and analysts write, and
 * the 7-day preview agrees with SQL over the same lake.
 */
describe('alert rules API', () => {
  let server: ServerProcess;
  let demo: DemoDataDir;
  const sessions: Record<string, { cookie: string; csrf: string }> = {};

  type Init = { method?: string; json?: unknown; as?: 'key' | 'viewer' | 'analyst' | 'none'; csrf?: boolean };
  const call = (path: string, init: Init = {}) => {
    const headers: Record<string, string> = {};
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    const as = init.as ?? 'key';
    if (as === 'key') headers.authorization = `Bearer ${demo.apiKey}`;
    else if (as !== 'none') {
      headers.cookie = sessions[as].cookie;
      if (init.csrf !== false) headers['x-csrf-token'] = sessions[as].csrf;
    }
    return fetch(`${server.url}${path}`, {
      method: init.method ?? (init.json === undefined ? 'GET' : 'POST'),
      headers,
      body: init.json === undefined ? undefined : JSON.stringify(init.json),
    });
  };

  before(async () => {
    demo = await demoDataDir({ days: 8, eventsPerDay: 3000 });
    for (const role of ['viewer', 'analyst']) {
      const r = await runCli(['users', 'add', `${role}@shop.example`, '--role', role, '--password-stdin'], {
        dataDir: demo.dataDir,
        input: `${PASSWORD}\n`,
      });
      assert.equal(r.code, 0, r.stderr);
    }
    server = await startServer({ dataDir: demo.dataDir });
    for (const role of ['viewer', 'analyst']) {
      const res = await call('/api/v1/login', {
        as: 'none',
        json: { email: `${role}@shop.example`, password: PASSWORD },
      });
      assert.equal(res.status, 200);
      sessions[role] = {
        cookie: res.headers.getSetCookie()[0].split(';')[0],
        csrf: ((await res.json()) as { csrfToken: string }).csrfToken,
      };
    }
  });
  after(() => {
    server?.cleanup();
    if (demo) rmSync(demo.dataDir, { recursive: true, force: true });
  });

  const RULE = { id: 'no-orders', metric: 'orders', windowMinutes: 15, op: '<', value: 1 };

  it('refuses invalid rules with messages that name the field', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ...RULE, value: 'one' }, 'value', /field "value" is invalid: got "one"/],
      [{ ...RULE, metric: 'sales' }, 'metric', /unknown metric "sales"; use one of requests, .*orders/],
      [{ ...RULE, windowMinutes: 5000 }, 'windowMinutes', /windowMinutes" is invalid .*got 5000/],
      [{ ...RULE, op: '=' }, 'op', /field "op" is invalid \(one of <, <=, >, >=\)/],
      [{ ...RULE, id: 'No Orders' }, 'id', /field "id" is invalid/],
      [{ ...RULE, between: { from: '08:00', to: '25:00' } }, 'between', /between.to/],
      [{ ...RULE, timeZone: 'Mars/Olympus' }, 'timeZone', /time zone "Mars\/Olympus" is unknown/],
      [{ ...RULE, site: 'nowhere' }, 'site', /site "nowhere" does not exist/],
      [{ ...RULE, values: 2 }, 'values', /unknown field "values"; did you mean "value"\?/],
    ];
    for (const [rule, field, message] of cases) {
      const res = await call('/api/v1/alert-rules', { json: rule });
      assert.equal(res.status, 400, JSON.stringify(rule));
      const body = (await res.json()) as ApiError;
      assert.match(body.error, message);
      assert.deepEqual(
        body.details?.errors.map((e) => e.field),
        [field],
        JSON.stringify(body),
      );
    }
    const missing = (await (await call('/api/v1/alert-rules', { json: { id: 'x' } })).json()) as ApiError;
    assert.deepEqual(missing.details?.errors.map((e) => e.field).sort(), [
      'metric',
      'op',
      'value',
      'windowMinutes',
    ]);
    assert.equal((await call('/api/v1/alert-rules')).status, 200);
    assert.deepEqual(((await (await call('/api/v1/alert-rules')).json()) as { rules: unknown[] }).rules, []);
  });

  it('lets viewers read, analysts write; ids are unique and cannot be renamed', async () => {
    assert.equal((await call('/api/v1/alert-rules', { as: 'none' })).status, 401);
    assert.equal((await call('/api/v1/alert-rules', { as: 'viewer', json: RULE })).status, 403);
    assert.equal((await call('/api/v1/alert-rules', { as: 'analyst', json: RULE, csrf: false })).status, 403);
    const created = await call('/api/v1/alert-rules', { as: 'analyst', json: RULE });
    assert.equal(created.status, 201, await created.clone().text());
    const dup = await call('/api/v1/alert-rules', { as: 'analyst', json: RULE });
    assert.equal(dup.status, 409);
    assert.match(((await dup.json()) as ApiError).error, /exists already/);

    const put = (id: string, rule: unknown, as: Init['as'] = 'analyst') =>
      call(`/api/v1/alert-rules/${id}`, { method: 'PUT', json: rule, as });
    assert.equal((await put('no-orders', { ...RULE, value: 2 }, 'viewer')).status, 403);
    const renamed = await put('no-orders', { ...RULE, id: 'other' });
    assert.equal(renamed.status, 400);
    assert.match(((await renamed.json()) as ApiError).error, /to rename a rule, create a new one/);
    assert.equal((await put('missing', { ...RULE, id: undefined })).status, 404);
    const changed = await put('no-orders', {
      ...RULE,
      id: undefined,
      value: 2,
      summary: 'No orders <b>!</b>',
    });
    assert.equal(changed.status, 200, await changed.clone().text());

    const listed = (await (await call('/api/v1/alert-rules', { as: 'viewer' })).json()) as {
      rules: { rule: { id: string; value: number; summary: string }; createdBy: string; updatedBy: string }[];
      metrics: { name: string }[];
    };
    assert.deepEqual(
      listed.rules.map((r) => [r.rule.id, r.rule.value, r.rule.summary, r.createdBy, r.updatedBy]),
      [['no-orders', 2, 'No orders <b>!</b>', 'analyst@shop.example', 'analyst@shop.example']],
    );
    assert.ok(listed.metrics.some((m) => m.name === 'conversion'));

    assert.equal(
      (await call('/api/v1/alert-rules/no-orders', { method: 'DELETE', as: 'viewer' })).status,
      403,
    );
    assert.equal(
      (await call('/api/v1/alert-rules/no-orders', { method: 'DELETE', as: 'analyst' })).status,
      204,
    );
    assert.equal(
      (await call('/api/v1/alert-rules/no-orders', { method: 'DELETE', as: 'analyst' })).status,
      404,
    );
  });

  it('previews a rule on the last 7 days as SQL over the lake says it would have fired', async () => {
    // Independent oracle: requests per minute straight from the lake.
    const rows = await sql(
      { url: server.url, apiKey: demo.apiKey },
      `SELECT (epoch_ms(event_time) // 60000) * 60000 AS minute, count(*) AS n
       FROM events WHERE site_id = 'default' GROUP BY 1`,
    );
    const perMinute = new Map(rows.map((r) => [Number(r.minute), Number(r.n)]));
    const windowMinutes = 5;
    const sums = (from: number, to: number) => {
      const out = new Map<number, number>();
      for (let end = from + MINUTE; end <= to; end += MINUTE) {
        let s = 0;
        for (let m = end - windowMinutes * MINUTE; m < end; m += MINUTE) s += perMinute.get(m) ?? 0;
        out.set(end, s);
      }
      return out;
    };

    const preview = async (rule: unknown, as: Init['as'] = 'analyst') =>
      call('/api/v1/alert-rules/preview', { as, json: { site: 'default', rule } });
    assert.equal((await preview({ metric: 'requests' }, 'viewer')).status, 403);
    const bad = await preview({ metric: 'requests', windowMinutes: 5, op: '>', value: 'x' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as ApiError).details?.errors[0].field, 'value');

    // A threshold the busiest hours cross: the 95th percentile of 5-minute sums.
    const first = (await (
      await preview({ metric: 'requests', windowMinutes, op: '>', value: 1e9 })
    ).json()) as Preview;
    assert.equal(first.to - first.from, 7 * 1440 * MINUTE);
    assert.equal(first.intervals.length, 0);
    const oracle = sums(first.from, first.to);
    const sorted = [...oracle.values()].sort((a, b) => a - b);
    const threshold = sorted[Math.floor(sorted.length * 0.95)];

    const started = Date.now();
    const res = await preview({ metric: 'requests', windowMinutes, op: '>', value: threshold });
    const elapsed = Date.now() - started;
    assert.equal(res.status, 200);
    const p = (await res.json()) as Preview;
    assert.ok(elapsed < 5000, `preview answered in ${elapsed} ms`);
    assert.equal(p.series.length, 7 * 1440);
    assert.equal(p.evaluated, 7 * 1440);
    const expected = [...oracle].filter(([, s]) => s > threshold).map(([end]) => end);
    assert.ok(expected.length > 0);
    assert.equal(p.firedMinutes, expected.length);
    for (const [end, v] of p.series)
      assert.equal(v, oracle.get(end), `window ending ${new Date(end).toISOString()}`);
    for (const i of p.intervals) {
      assert.ok(i.peak > threshold);
      assert.ok(expected.includes(i.start));
      assert.ok(!expected.includes(i.start - MINUTE), 'an interval starts where the rule starts firing');
    }
  });
});
