import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { eventually, type ServerProcess, sql, startServer } from '../testing/server-process.js';

/**
 * Nothing acknowledged is lost, nothing is stored twice: senders post continuously while the
 * server is SIGKILLed several times; clients retry unacknowledged batches with the same
 * event ids (as sp.js and the SDKs do). Afterwards every acknowledged event_id is in the
 * lake exactly once.
 */
describe('crash safety', () => {
  let server: ServerProcess;
  after(() => server?.cleanup());

  it('keeps every acknowledged event exactly once across kill -9', { timeout: 180_000 }, async () => {
    server = await startServer({ env: { STOREPULSE_QUERY__MAX_ROWS: '1000000' } });
    const acked = new Set<string>();
    let sending = true;
    let batchNo = 0;
    let failures = 0;

    const sender = async (worker: number) => {
      while (sending) {
        const n = batchNo++;
        const ids = Array.from({ length: 25 }, (_, i) => `w${worker}-b${n}-e${i}`);
        const body = JSON.stringify({
          events: ids.map((id) => ({ event_id: id, type: 'view', product_id: String(n % 50), price: 1.5 })),
        });
        // Retry the same batch (same ids) until it is acknowledged.
        for (;;) {
          try {
            const res = await fetch(`${server.url}/api/v1/events`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${server.writeKey}` },
              body,
              signal: AbortSignal.timeout(5000),
            });
            if (res.status === 200) {
              for (const id of ids) acked.add(id);
              break;
            }
            failures++;
          } catch {
            failures++;
          }
          await new Promise((r) => setTimeout(r, 100));
          if (!sending && failures > 10_000) return;
        }
      }
    };

    const senders = [0, 1, 2, 3].map(sender);
    for (let kill = 0; kill < 3; kill++) {
      await new Promise((r) => setTimeout(r, 1500 + Math.random() * 1000));
      await server.kill9();
      await new Promise((r) => setTimeout(r, 300));
      await server.restart();
    }
    await new Promise((r) => setTimeout(r, 1000));
    sending = false;
    await Promise.all(senders);
    assert.ok(acked.size > 500, `sent enough to matter (${acked.size} acknowledged)`);
    assert.ok(failures > 0, 'the kills did interrupt requests');

    await eventually(async () => {
      const [r] = await sql(server, 'select count(*) as n from events');
      return Number(r.n) >= acked.size;
    }, 30_000);
    const [{ n, distinct_ids }] = await sql(
      server,
      'select count(*) as n, count(distinct event_id) as distinct_ids from events',
    );
    assert.equal(Number(n), Number(distinct_ids), 'no event stored twice');
    const stored = new Set((await sql(server, `select event_id from events`)).map((r) => String(r.event_id)));
    const missing = [...acked].filter((id) => !stored.has(id));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} acknowledged events missing`);
  });
});
