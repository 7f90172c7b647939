import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, postEvents, type ServerProcess, sql, startServer } from '../testing/server-process.js';

describe('collector over HTTP', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer({
      env: { STOREPULSE_SERVER__BODY_LIMIT_BYTES: '65536', STOREPULSE_SERVER__MAX_BATCH: '100' },
    });
  });
  after(() => server?.cleanup());

  const raw = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/api/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.writeKey}`, ...headers },
      body: body as BodyInit,
    });

  it('accepts an event and makes it queryable within seconds', async () => {
    const r = await postEvents(server, { type: 'view', event_id: 'first-view', product_id: 'p1', price: 5 });
    assert.equal(r.status, 200);
    assert.equal(r.body?.accepted, 1);
    await eventually(
      async () => (await sql(server, "select * from events where event_id = 'first-view'")).length === 1,
    );
  });

  it('treats a client event_id as an idempotency key', async () => {
    const body = { events: [{ type: 'purchase', event_id: 'order-77', price: 10 }] };
    assert.equal((await postEvents(server, body)).status, 200);
    const again = await postEvents(server, body);
    assert.equal(again.status, 200);
    assert.equal(again.body?.duplicates, 1);
    await new Promise((r) => setTimeout(r, 2500));
    const rows = await sql(server, "select count(*) as n from events where event_id = 'order-77'");
    assert.equal(Number(rows[0].n), 1);
  });

  it('refuses requests without a valid write key, and stores nothing for them', async () => {
    assert.equal((await raw('{"type":"view"}', { authorization: '' })).status, 401);
    const wrong = await raw('{"type":"view"}', { authorization: 'Bearer sp_wk_nope' });
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as { error: string }).error, /unknown write key/);
  });

  const bad: [string, () => Promise<Response>, number, RegExp][] = [
    ['malformed JSON', () => raw('{"type": "view",'), 400, /malformed JSON/],
    [
      'invalid UTF-8',
      () => raw(Buffer.from([0x7b, 0x22, 0x74, 0xff, 0xfe, 0x22, 0x7d])),
      400,
      /not valid UTF-8/,
    ],
    ['an empty body', () => raw(''), 400, /empty/],
    ['a body that is not an event', () => raw('[]'), 400, /batch is empty/],
    [
      'a batch over the limit',
      () => raw(JSON.stringify({ events: Array(101).fill({ type: 'view' }) })),
      413,
      /limit is 100/,
    ],
    [
      'a huge body',
      () => raw(JSON.stringify({ events: [{ type: 'view', props: { x: 'y'.repeat(100_000) } }] })),
      413,
      /larger than 65536 bytes/,
    ],
  ];
  for (const [name, send, status, reason] of bad) {
    it(`answers ${status} with a reason for ${name}, and quarantines it`, async () => {
      const res = await send();
      assert.equal(res.status, status);
      const body = (await res.json()) as { error: string };
      assert.match(body.error, reason);
    });
  }

  it('rejects bad events in a batch one by one, keeping the good ones', async () => {
    const r = await postEvents(server, {
      events: [
        { type: 'view', event_id: 'good-1' },
        { type: 'view', price: 'free' },
        { type: 'view', colour: 'red' },
        { type: 'view', time: '2030-01-01T00:00:00Z' },
        { type: 'view', time: '2001-01-01T00:00:00Z' },
        { type: 'view', event_id: 'good-2' },
      ],
    });
    assert.equal(r.status, 200);
    assert.equal(r.body?.accepted, 2);
    const rejected = r.body?.rejected as { index: number; reason: string }[];
    assert.deepEqual(
      rejected.map((x) => x.index),
      [1, 2, 3, 4],
    );
    assert.match(rejected[1].reason, /unknown field "colour"/);
    assert.match(rejected[2].reason, /future/);
    assert.match(rejected[3].reason, /older than/);
  });

  it('keeps every refusal queryable in bad_records with its reason', async () => {
    await eventually(async () => {
      const rows = await sql(server, 'select reason from bad_records');
      const reasons = rows.map((r) => String(r.reason)).join('\n');
      return [
        /malformed JSON/,
        /UTF-8/,
        /limit is 100/,
        /larger than 65536/,
        /unknown field "colour"/,
        /future/,
        /older than/,
      ].every((re) => re.test(reasons));
    });
    const [utf8] = await sql(server, "select raw from bad_records where reason like '%UTF-8%'");
    assert.match(String(utf8.raw), /^base64:/, 'undecodable bytes are kept as base64');
  });

  it('serves a pixel and records it', async () => {
    const res = await fetch(`${server.url}/t.gif?k=${server.writeKey}&e=view&pid=px-1&price=2.5&id=pixel-1`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/gif');
    await eventually(
      async () =>
        (await sql(server, "select * from events where event_id = 'pixel-1' and source = 'pixel'")).length ===
        1,
    );
  });

  it('reports health, readiness and Prometheus metrics', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /storepulse_events_ingested_total\{site="default",source="api"\} \d+/);
    assert.match(metrics, /storepulse_events_rejected_total\{site="default",source="api"\} \d+/);
    assert.match(metrics, /storepulse_stream_lag_records\{topic="events",group="lake"\} \d+/);
    assert.match(metrics, /storepulse_lake_flush_seconds_count\{table="events"\} \d+/);
  });

  it('refuses SQL without an API key and anything but SELECT with one', async () => {
    const anon = await fetch(`${server.url}/api/v1/query`, {
      method: 'POST',
      body: '{"sql":"select 1"}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(anon.status, 401);
    // Inside the lake directory DuckDB itself would allow COPY … TO; the statement-type check refuses it.
    await assert.rejects(sql(server, `COPY (select 1) TO '${server.dataDir}/lake/x.csv'`), /only SELECT/);
    await assert.rejects(sql(server, "select * from read_csv('/etc/passwd')"), /disabled by configuration/);
  });
});
