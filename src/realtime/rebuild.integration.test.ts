import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CHROME_UA } from '../testing/ingest-context.js';
import { eventually, runCli, type ServerProcess, sql, startServer } from '../testing/server-process.js';

const SAMPLE = join(import.meta.dirname, '..', '..', 'test-data', 'rees46_sample.csv');
const OCT_2019 = Date.parse('2019-10-01T00:00:00Z');

/**
 * Rebuild from the lake: history the realtime processor never saw (an import of 2019 data)
 * appears in its windows, live traffic sent during the rebuild is neither lost nor doubled,
 * and afterwards the per-minute numbers equal an exact recount from the lake.
 */
describe('realtime rebuild from the lake', () => {
  let server: ServerProcess;
  after(() => server?.cleanup());

  const admin = () => ({ authorization: `Bearer ${server.apiKey}` });
  const send = async (tag: string, n: number) => {
    const res = await fetch(`${server.url}/api/v1/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${server.writeKey}`,
        'user-agent': CHROME_UA,
      },
      body: JSON.stringify({
        events: Array.from({ length: n }, (_, i) => ({
          event_id: `${tag}-${i}`,
          type: ['view', 'cart', 'purchase'][i % 3],
          product_id: `p${i % 5}`,
          price: 2,
          visitor_id: `v${i % 40}`,
        })),
      }),
    });
    assert.equal(res.status, 200);
  };
  const realtimeByMinute = async (from: number, to: number) => {
    const res = await fetch(
      `${server.url}/api/v1/sites/default/realtime?resolution=minute&range=${from}..${to}`,
      { headers: admin() },
    );
    const snap = (await res.json()) as { series: { start: number; events: number }[] };
    return new Map(snap.series.filter((p) => p.events > 0).map((p) => [p.start, p.events]));
  };
  const lakeByMinute = async (from: number, to: number) =>
    new Map(
      (
        await sql(
          server,
          `select epoch_ms(date_trunc('minute', event_time)) as m, count(*) as n from events
            where not is_bot and event_time >= epoch_ms(${from}::BIGINT) and event_time < epoch_ms(${to}::BIGINT)
            group by 1`,
        )
      ).map((r) => [Number(r.m), Number(r.n)]),
    );
  const sorted = (m: Map<number, number>) => [...m].sort((a, b) => a[0] - b[0]);

  it('adds imported history, keeps live traffic exactly once, and matches the lake minute by minute', {
    timeout: 120_000,
  }, async () => {
    server = await startServer({
      env: {
        // Keep 2019's windows: retention counts back from the newest event, which is today.
        STOREPULSE_REALTIME__MINUTE_RETENTION_HOURS: String(24 * 365 * 10),
        STOREPULSE_REALTIME__HOUR_RETENTION_DAYS: String(365 * 10),
      },
    });
    const started = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    await send('before', 300);
    await eventually(
      async () => Number((await sql(server, 'select count(*) as n from events'))[0].n) === 300,
    );

    const imported = await runCli(['import', SAMPLE, '--no-progress'], { dataDir: server.dataDir });
    assert.equal(imported.code, 0, imported.stderr);
    const history = [OCT_2019, OCT_2019 + 86_400_000] as const;
    const lakeHistory = await lakeByMinute(...history);
    assert.ok([...lakeHistory.values()].reduce((a, b) => a + b, 0) > 900, 'the import landed in the lake');
    assert.equal((await realtimeByMinute(...history)).size, 0, 'imports bypass the stream: not live yet');

    const refused = await fetch(`${server.url}/api/v1/realtime/rebuild`, {
      method: 'POST',
      headers: { ...admin(), 'content-type': 'application/json' },
      body: JSON.stringify({ from: 'last tuesday' }),
    });
    assert.equal(refused.status, 400);
    assert.match(((await refused.json()) as { error: string }).error, /ISO-8601/);

    const cli = runCli(['realtime', 'rebuild', '--from', '2019-01-01', '--url', server.url], {
      env: { STOREPULSE_API_KEY: server.apiKey },
    });
    await send('during', 150);
    const rebuilt = await cli;
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const events = Number(/rebuilt from ([\d,]+) lake events/.exec(rebuilt.stdout)?.[1].replaceAll(',', ''));
    assert.ok(events >= 1000, `replayed ${events} events from the lake`);
    const again = await fetch(`${server.url}/api/v1/realtime/rebuild`, { headers: admin() });
    assert.equal(((await again.json()) as { state: string }).state, 'done');
    await send('after', 60);

    // Imported history is now in the windows, exactly as the lake counts it.
    assert.deepEqual(sorted(await realtimeByMinute(...history)), sorted(lakeHistory));
    // Live minutes: everything sent before, during and after, each once.
    const live = [started, Date.now() + 120_000] as const;
    let lake = new Map<number, number>();
    let rt = new Map<number, number>();
    await eventually(async () => {
      [lake, rt] = await Promise.all([lakeByMinute(...live), realtimeByMinute(...live)]);
      const total = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
      return total(lake) === 510 && total(rt) === 510;
    }, 30_000).catch(() => {});
    assert.deepEqual(sorted(rt), sorted(lake));
    assert.equal(
      [...rt.values()].reduce((a, b) => a + b, 0),
      510,
    );
  });
});
