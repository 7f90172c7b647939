import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CHROME_UA } from '../testing/ingest-context.js';
import { eventually, type ServerProcess, sql, startServer } from '../testing/server-process.js';

interface Point {
  start: number;
  events: number;
  byType: Record<string, number>;
}

/**
 * The live per-minute numbers survive kill -9: after restarts during live traffic, the
 * realtime processor's minute counts equal an exact recount from the lake.
 */
describe('realtime restart safety', () => {
  let server: ServerProcess;
  after(() => server?.cleanup());

  it('per-minute counts equal a recount from the lake after kill -9 during traffic', {
    timeout: 180_000,
  }, async () => {
    server = await startServer({ env: { STOREPULSE_QUERY__MAX_ROWS: '100000' } });
    const started = Date.now();
    let sending = true;
    let n = 0;
    const types = ['page_view', 'view', 'view', 'cart', 'purchase'];
    const sender = async (worker: number) => {
      while (sending) {
        const batch = n++;
        const body = JSON.stringify({
          events: Array.from({ length: 20 }, (_, i) => ({
            event_id: `rt-${worker}-${batch}-${i}`,
            type: types[(batch + i) % types.length],
            product_id: `p${i % 7}`,
            price: 3,
            visitor_id: `v${(batch * 20 + i) % 500}`,
          })),
        });
        for (;;) {
          try {
            const res = await fetch(`${server.url}/api/v1/events`, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                authorization: `Bearer ${server.writeKey}`,
                'user-agent': CHROME_UA,
              },
              body,
              signal: AbortSignal.timeout(5000),
            });
            if (res.status === 200) break;
          } catch {}
          if (!sending) return; // an unacknowledged batch may or may not be stored: both sides count what is
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const senders = [0, 1, 2].map(sender);
    for (let k = 0; k < 2; k++) {
      await new Promise((r) => setTimeout(r, 2000 + Math.random() * 1000));
      await server.kill9();
      await server.restart();
    }
    await new Promise((r) => setTimeout(r, 1500));
    sending = false;
    await Promise.all(senders);

    const lakeByMinute = async () =>
      new Map(
        (
          await sql(
            server,
            `select epoch_ms(date_trunc('minute', event_time)) as m, count(*) as n from events where not is_bot group by 1`,
          )
        ).map((r) => [Number(r.m), Number(r.n)]),
      );
    const realtimeByMinute = async () => {
      const from = Math.floor(started / 60_000) * 60_000 - 60_000;
      const res = await fetch(
        `${server.url}/api/v1/sites/default/realtime?resolution=minute&range=${from}..${Date.now() + 60_000}`,
        { headers: { authorization: `Bearer ${server.apiKey}` } },
      );
      const snap = (await res.json()) as { series: Point[] };
      return new Map(snap.series.filter((p) => p.events > 0).map((p) => [p.start, p.events]));
    };

    // Both consumers catch up with the stream; then the numbers must agree minute by minute.
    let lake = new Map<number, number>();
    let live = new Map<number, number>();
    await eventually(
      async () => {
        [lake, live] = await Promise.all([lakeByMinute(), realtimeByMinute()]);
        const total = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
        return total(lake) > 0 && total(lake) === total(live);
      },
      30_000,
      500,
    ).catch(() => {});
    assert.ok([...lake.values()].reduce((a, b) => a + b, 0) > 300, 'enough traffic to matter');
    assert.deepEqual([...live].sort(), [...lake].sort());
    const [{ n: total, d }] = await sql(
      server,
      'select count(*) as n, count(distinct event_id) as d from events',
    );
    assert.equal(total, d, 'no duplicates in the lake either');
  });
});
