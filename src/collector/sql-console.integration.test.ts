import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { CHROME_UA } from '../testing/ingest-context.js';
import {
  eventually,
  postEvents,
  runCli,
  type ServerProcess,
  sql,
  startServer,
} from '../testing/server-process.js';

const PASSWORD = 'kettle orbit saffron 77';
const SLOW = 'select count(*) from range(100000000) a, range(100000) b';

/** A signed-in browser: its session cookie and CSRF token. */
interface Who {
  cookie: string;
  csrf: string;
}

describe('SQL console and catalog over HTTP', () => {
  let server: ServerProcess;
  const users: Record<'ann' | 'bob' | 'vic' | 'ada', Who> = {} as never;

  const call = (
    path: string,
    o: { as?: Who; key?: string; method?: string; body?: unknown; csrf?: boolean } = {},
  ) => {
    const headers: Record<string, string> = {};
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (o.as) headers.cookie = o.as.cookie;
    if (o.as && o.csrf !== false) headers['x-csrf-token'] = o.as.csrf;
    if (o.key) headers.authorization = `Bearer ${o.key}`;
    return fetch(`${server.url}${path}`, {
      method: o.method ?? (o.body === undefined ? 'GET' : 'POST'),
      headers,
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
  };
  const json = async <T = Record<string, unknown>>(res: Response | Promise<Response>) =>
    (await (await res).json()) as T;

  before(async () => {
    server = await startServer({ env: { STOREPULSE_QUERY__TIMEOUT_MS: '20000' } });
    const roles = { ann: 'analyst', bob: 'analyst', vic: 'viewer', ada: 'admin' } as const;
    await Promise.all(
      Object.entries(roles).map(async ([name, role]) => {
        const r = await runCli(['users', 'add', `${name}@shop.example`, '--role', role, '--password-stdin'], {
          dataDir: server.dataDir,
          input: `${PASSWORD}\n`,
        });
        assert.equal(r.code, 0, r.stderr);
      }),
    );
    for (const name of Object.keys(roles) as (keyof typeof roles)[]) {
      const res = await call('/api/v1/login', {
        body: { email: `${name}@shop.example`, password: PASSWORD },
      });
      assert.equal(res.status, 200);
      users[name] = {
        cookie: res.headers.getSetCookie()[0].split(';')[0],
        csrf: ((await res.json()) as { csrfToken: string }).csrfToken,
      };
    }
    const events = Array.from({ length: 60 }, (_, i) => ({
      type: i % 5 === 0 ? 'purchase' : 'view',
      product_id: `p${i % 7}`,
      price: i,
      event_id: `it-${i}`,
      time: Date.now() - (i % 3) * 3_600_000,
    }));
    assert.equal((await postEvents(server, { events }, { 'user-agent': CHROME_UA })).status, 200);
    await eventually(async () => (await sql(server, 'select count(*) as n from events'))[0].n === 60);
  });
  after(() => server?.cleanup());

  it('catalog: row counts per partition equal COUNT(*), sizes and freshness are there (viewer may read it)', async () => {
    assert.equal((await call('/api/v1/catalog')).status, 401);
    const catalog = await json<{
      tables: {
        name: string;
        rows: number;
        bytes: number;
        partitions: { dt: string; hour: number; rows: number; bytes: number; files: number }[];
        freshness: { newest: Record<string, number> };
      }[];
    }>(call('/api/v1/catalog', { as: users.vic }));
    const events = catalog.tables.find((t) => t.name === 'events');
    assert.ok(events);
    const counted = await sql(
      server,
      `select strftime(dt, '%Y-%m-%d') as dt, hour, count(*) as n from events group by all order by dt desc, hour desc`,
    );
    assert.deepEqual(
      events.partitions.map((p) => [p.dt, p.hour, p.rows]),
      counted.map((r) => [r.dt, r.hour, r.n]),
    );
    assert.equal(events.rows, 60);
    assert.ok(events.bytes > 0 && events.partitions.every((p) => p.files >= 1 && p.bytes > 0));
    const [newest] = await sql(server, 'select epoch_ms(max(event_time)) as t from events');
    assert.equal(events.freshness.newest.event_time, newest.t);
  });

  it('catalog: a file written with an extra column is read with the old ones, and shown as added', async () => {
    // Another writer (e.g. a newer storepulse) adds a `coupon` column; old files lack it.
    const lake = join(server.dataDir, 'lake', 'events');
    const dir = join(lake, 'dt=2030-01-02', 'hour=03');
    mkdirSync(dir, { recursive: true });
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run(
      `COPY (SELECT * REPLACE (TIMESTAMP '2030-01-02 03:04:05' AS event_time, 'ev-' || event_id AS event_id), 'SPRING' AS coupon
             FROM read_parquet('${lake}/*/*/*.parquet') LIMIT 5)
       TO '${join(dir, '.tmp.parquet')}' (FORMAT parquet)`,
    );
    conn.closeSync();
    db.closeSync();
    const { renameSync } = await import('node:fs');
    renameSync(join(dir, '.tmp.parquet'), join(dir, 'import-evolution-0.parquet'));

    const catalog = await json<{
      tables: {
        name: string;
        rows: number;
        columns: { name: string; type: string; files: number; addedOn?: string }[];
      }[];
    }>(call('/api/v1/catalog', { as: users.vic }));
    const events = catalog.tables.find((t) => t.name === 'events');
    const coupon = events?.columns.find((c) => c.name === 'coupon');
    assert.deepEqual([coupon?.type, coupon?.files, coupon?.addedOn], ['VARCHAR', 1, '2030-01-02']);
    assert.equal(events?.rows, 65);
    const rows = await sql(server, 'select count(*) as n, count(coupon) as c, max(coupon) as m from events');
    assert.deepEqual(rows, [{ n: 65, c: 5, m: 'SPRING' }]);
  });

  it('cancel: the owner stops a running query by its id; others cannot; the query answers "cancelled"', async () => {
    const running = call('/api/v1/query', { as: users.ann, body: { sql: SLOW, queryId: 'slow-1' } });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await call('/api/v1/query/slow-1/cancel', { as: users.bob, body: {} })).status, 404);
    assert.equal((await call('/api/v1/query/slow-1/cancel', { as: users.vic, body: {} })).status, 403);
    const dup = await call('/api/v1/query', { as: users.ann, body: { sql: 'select 1', queryId: 'slow-1' } });
    assert.equal(dup.status, 409);
    const started = Date.now();
    assert.equal((await call('/api/v1/query/slow-1/cancel', { as: users.ann, body: {} })).status, 200);
    const res = await running;
    assert.equal(res.status, 409);
    const body = await json<{ error: string; code: string }>(res);
    assert.equal(body.code, 'cancelled');
    assert.match(body.error, /cancelled after \d+ ms/);
    assert.ok(Date.now() - started < 3000, 'stopped promptly');
    // Gone once finished; the id may be used again.
    assert.equal((await call('/api/v1/query/slow-1/cancel', { as: users.ann, body: {} })).status, 404);
    const again = await json(
      call('/api/v1/query', { as: users.ann, body: { sql: 'select 41 + 1 as x', queryId: 'slow-1' } }),
    );
    assert.deepEqual(again.rows, [{ x: 42 }]);
  });

  it('history: each user sees their own last queries, newest first, with status and error', async () => {
    await call('/api/v1/query', { as: users.bob, body: { sql: 'select nope from events' } });
    await call('/api/v1/query', { as: users.bob, body: { sql: "COPY (select 1) TO '/tmp/x.csv'" } });
    await call('/api/v1/query', { as: users.bob, body: { sql: 'select count(*) from events' } });
    const bob = await json<{
      entries: {
        sql: string;
        status: string;
        rows: number | null;
        error: string | null;
        elapsedMs: number;
        startedAt: number;
      }[];
    }>(call('/api/v1/query/history', { as: users.bob }));
    assert.deepEqual(
      bob.entries.map((e) => [e.status, e.rows]),
      [
        ['ok', 1],
        ['refused', null],
        ['error', null],
      ],
    );
    assert.match(bob.entries[2].error ?? '', /nope/);
    assert.ok(bob.entries.every((e) => e.elapsedMs >= 0 && e.startedAt > Date.now() - 60_000));
    const ann = await json<{ entries: { sql: string; status: string }[] }>(
      call('/api/v1/query/history', { as: users.ann }),
    );
    assert.deepEqual(
      ann.entries.map((e) => e.status),
      ['ok', 'cancelled'],
      "ann's own: the re-run and the cancelled one (the refused duplicate never ran)",
    );
    assert.equal((await call('/api/v1/query/history', { as: users.vic })).status, 403);
  });

  it('saved queries: private to the owner until shared; only the owner or an admin changes them', async () => {
    type Saved = { id: string; name: string; shared: boolean; editable: boolean; ownerName: string };
    const create = (as: Who, body: unknown) => call('/api/v1/saved-queries', { as, body });
    const priv = await json<Saved>(
      create(users.ann, { name: 'Mine', sql: 'select 1', description: 'private' }),
    );
    const shared = await json<Saved>(
      create(users.ann, { name: 'Team revenue', sql: 'select sum(price) from events', shared: true }),
    );
    assert.equal(shared.ownerName, 'ann@shop.example');
    assert.equal(
      (await create(users.vic, { name: 'x', sql: 'select 1' })).status,
      403,
      'viewers cannot save',
    );
    assert.equal((await create(users.ann, { name: 'x' })).status, 400);
    assert.equal((await create(users.ann, { name: 'x', sql: 'select 1', owner: 'bob' })).status, 400);
    assert.equal((await create(users.ann, { name: 'x', sql: 'select 1' })).status, 201);

    const names = async (as: Who) =>
      (await json<{ queries: Saved[] }>(call('/api/v1/saved-queries', { as }))).queries.map((q) => q.name);
    assert.deepEqual(await names(users.bob), ['Team revenue']);
    assert.deepEqual(await names(users.vic), ['Team revenue'], 'viewers see shared ones');
    assert.equal((await call(`/api/v1/saved-queries/${priv.id}`, { as: users.bob })).status, 404);
    assert.equal((await call(`/api/v1/saved-queries/${shared.id}`, { as: users.vic })).status, 200);

    const patch = (as: Who, id: string, body: unknown, csrf = true) =>
      call(`/api/v1/saved-queries/${id}`, { as, method: 'PATCH', body, csrf });
    assert.equal((await patch(users.bob, shared.id, { name: 'Bob was here' })).status, 403);
    assert.equal((await patch(users.vic, shared.id, { name: 'Vic was here' })).status, 403);
    assert.equal(
      (await patch(users.ann, shared.id, { name: 'no token' }, false)).status,
      403,
      'CSRF token required',
    );
    assert.equal(
      (await call(`/api/v1/saved-queries/${shared.id}`, { as: users.bob, method: 'DELETE' })).status,
      403,
    );
    const renamed = await json<Saved>(patch(users.ada, priv.id, { name: 'Mine (checked by admin)' }));
    assert.equal(renamed.name, 'Mine (checked by admin)');
    assert.equal((await patch(users.ann, shared.id, { shared: false })).status, 200);
    assert.deepEqual(await names(users.bob), []);
    assert.equal(
      (await call(`/api/v1/saved-queries/${shared.id}`, { as: users.ann, method: 'DELETE' })).status,
      204,
    );
    assert.equal((await call(`/api/v1/saved-queries/${shared.id}`, { as: users.ann })).status, 404);
  });

  it('downloads the whole result as CSV and as Parquet that reads back equal to the query', async () => {
    const q =
      'select event_id, event_type, price, event_time from events where coupon is null order by event_id';
    const rows = await json<{ rows: Record<string, unknown>[] }>(
      call('/api/v1/query', { as: users.ann, body: { sql: q } }),
    );
    assert.equal(rows.rows.length, 60);

    const csv = await call('/api/v1/query/export', { as: users.ann, body: { sql: q, format: 'csv' } });
    assert.equal(csv.status, 200);
    assert.match(
      csv.headers.get('content-disposition') ?? '',
      /attachment; filename="storepulse-query-.*\.csv"/,
    );
    assert.equal(csv.headers.get('x-row-count'), '60');
    const lines = (await csv.text()).trim().split('\n');
    assert.equal(lines[0], 'event_id,event_type,price,event_time');
    assert.equal(lines.length, 61);
    assert.equal(lines[1].split(',')[0], rows.rows[0].event_id);

    const pq = await call('/api/v1/query/export', { as: users.ann, body: { sql: q, format: 'parquet' } });
    assert.equal(pq.status, 200);
    assert.equal(pq.headers.get('content-type'), 'application/vnd.apache.parquet');
    const file = join(server.dataDir, 'downloaded.parquet');
    writeFileSync(file, Buffer.from(await pq.arrayBuffer()));
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const back = await conn.runAndReadAll(
      `select event_id, event_type, price, strftime(event_time, '%Y-%m-%d %H:%M:%S.%f') as t from '${file}'`,
    );
    const expected = await sql(
      server,
      q.replace('event_time from', "strftime(event_time, '%Y-%m-%d %H:%M:%S.%f') as t from"),
    );
    assert.deepEqual(back.getRowObjectsJson(), expected);
    conn.closeSync();
    db.closeSync();
    await eventually(async () => readdirSync(join(server.dataDir, 'tmp', 'exports')).length === 0, 5000);
  });

  it('the download path keeps the sandbox: no writes, no reads outside the lake', async () => {
    const exportsDir = join(server.dataDir, 'tmp', 'exports');
    for (const [q, status] of [
      [`COPY (select 1) TO '${join(server.dataDir, 'lake', 'events', 'x.csv')}'`, 403],
      ["select * from read_csv('/etc/passwd')", 403],
      [`select * from read_text('${exportsDir}/*/*')`, 403],
      ["select 1) TO '/tmp/evil.csv' (FORMAT csv); COPY (select 1", 400],
      ['select 1; select 2', 403],
    ] as const) {
      const res = await call('/api/v1/query/export', { as: users.ann, body: { sql: q, format: 'parquet' } });
      assert.equal(res.status, status, `${q}: ${await res.text()}`);
    }
    assert.deepEqual(
      readdirSync(join(server.dataDir, 'lake', 'events')).filter((f) => !f.startsWith('dt=')),
      [],
    );
    assert.deepEqual(readdirSync(exportsDir), []);
    assert.equal(
      (await call('/api/v1/query/export', { as: users.vic, body: { sql: 'select 1' } })).status,
      403,
    );
    assert.equal(
      (
        await call('/api/v1/query/export', {
          key: server.apiKey,
          body: { sql: 'select 1 as a', format: 'csv' },
        })
      ).status,
      200,
    );
  });
});
