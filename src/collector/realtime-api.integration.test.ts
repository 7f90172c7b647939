import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CHROME_UA } from '../testing/ingest-context.js';
import { eventually, postEvents, type ServerProcess, startServer } from '../testing/server-process.js';

interface Snap {
  totals: { events: number; byType: Record<string, number>; revenue: number };
  live: { activeVisitors: number } | null;
  recent: unknown[];
}

describe('realtime API', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer();
  });
  after(() => server?.cleanup());

  const get = (path: string, key = server.apiKey) =>
    fetch(`${server.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('refuses callers without an API key', async () => {
    assert.equal((await get('/api/v1/sites/default/realtime', '')).status, 401);
    assert.equal((await get('/api/v1/sites/default/realtime/stream', '')).status, 401);
    assert.equal((await get('/api/v1/sites/nope/realtime')).status, 404);
    assert.equal((await get('/api/v1/sites/default/realtime?range=yesterday')).status, 400);
  });

  it('counts events live and pushes updates over server-sent events', { timeout: 30_000 }, async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/v1/sites/default/realtime/stream`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
      signal: controller.signal,
    });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const snapshots: Snap[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        buf += decoder.decode(chunk, { stream: true });
        let i = buf.indexOf('\n\n');
        while (i >= 0) {
          const data = buf
            .slice(0, i)
            .split('\n')
            .find((l) => l.startsWith('data: '));
          if (data) snapshots.push(JSON.parse(data.slice(6)));
          buf = buf.slice(i + 2);
          i = buf.indexOf('\n\n');
        }
      }
    })().catch(() => {});

    await eventually(async () => snapshots.length >= 1, 5000);
    const startedAt = snapshots.length;
    const r = await postEvents(
      server,
      {
        events: [
          { type: 'page_view', url: 'https://shop.example/', visitor_id: 'v1' },
          { type: 'view', product_id: 'p1', price: 10, visitor_id: 'v1' },
          { type: 'cart', product_id: 'p1', price: 10, visitor_id: 'v1' },
          { type: 'purchase', product_id: 'p1', price: 10, order_id: 'o1', visitor_id: 'v1' },
          { type: 'view', product_id: 'p2', visitor_id: 'v2' },
        ],
      },
      { 'user-agent': CHROME_UA },
    ); // node's own fetch UA is (rightly) flagged as a bot
    assert.equal(r.status, 200);
    await eventually(async () => (snapshots.at(-1)?.totals.events ?? 0) >= 5, 10_000);
    const last = snapshots.at(-1)!;
    assert.equal(last.totals.byType.view, 2);
    assert.equal(last.totals.byType.purchase, 1);
    assert.equal(last.totals.revenue, 10);
    assert.equal(last.live?.activeVisitors, 2);
    assert.ok(last.recent.length >= 5, 'the feed shows the new events');

    // At least one push per second while connected, even with nothing new.
    const before = snapshots.length;
    await new Promise((res) => setTimeout(res, 2200));
    assert.ok(snapshots.length - before >= 2, `pushed ${snapshots.length - before} times in 2.2 s`);
    assert.ok(snapshots.length > startedAt);
    controller.abort();
    await reading;

    const json = (await (await get('/api/v1/sites/default/realtime?resolution=minute&top=5')).json()) as Snap;
    assert.equal(json.totals.events, 5);
  });
});
