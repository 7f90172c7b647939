import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { WireEvent } from '../events/wire.js';
import { type DemoItem, demoIncidents } from './generator.js';
import { demoBackfill, demoLive } from './run.js';

interface Received {
  headers: IncomingHttpHeaders;
  events: WireEvent[];
  status: number;
  at: number;
}

/** A stand-in collector: answers like /api/v1/events, failing the first request with a 503. */
async function fakeCollector() {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const { events } = JSON.parse(Buffer.concat(parts).toString()) as { events: WireEvent[] };
      const status = requests.length === 0 ? 503 : 200;
      requests.push({ headers: req.headers, events, status, at: Date.now() });
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          status === 200 ? { accepted: events.length, duplicates: 0, rejected: [] } : { error: 'busy' },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('demoLive', () => {
  it('posts now-stamped batches per simulated client at about the asked rate, retrying failures', async () => {
    const collector = await fakeCollector();
    const lines: string[] = [];
    try {
      const stats = await demoLive({
        url: collector.url,
        writeKey: 'wk_test',
        ratePerSec: 150,
        seed: 3,
        durationSec: 1.5,
        log: (line) => lines.push(line),
      });
      const ok = collector.requests.filter((r) => r.status === 200);
      const delivered = new Set(ok.flatMap((r) => r.events.map((e) => e.event_id)));
      assert.ok(delivered.size > 80 && delivered.size < 700, `${delivered.size} events in 1.5 s at 150/s`);
      assert.equal(stats.sent, delivered.size);
      assert.equal(stats.acknowledged, delivered.size);
      assert.equal(stats.failed + stats.rejected, 0);
      // The batch refused with 503 came again and got through.
      assert.ok(stats.retries >= 1);
      for (const e of collector.requests[0].events) assert.ok(delivered.has(e.event_id));

      for (const r of collector.requests) {
        assert.equal(r.headers.authorization, 'Bearer wk_test');
        assert.match(String(r.headers['x-forwarded-for']), /^\d{1,3}(\.\d{1,3}){3}$/);
        assert.match(String(r.headers['user-agent']), /Mozilla|python-requests|bot/);
        for (const e of r.events) {
          // The server enriches with the request's UA and IP, so one request = one client.
          assert.ok(Math.abs(Date.parse(e.time as string) - r.at) < 2_000, 'event time is now');
        }
      }
      assert.ok(lines.some((l) => l.startsWith('demo done: sent')));
    } finally {
      await collector.close();
    }
  });

  it('stops soon after its signal aborts', async () => {
    const collector = await fakeCollector();
    try {
      const abort = new AbortController();
      setTimeout(() => abort.abort(), 300);
      const started = Date.now();
      await demoLive({ url: collector.url, writeKey: 'k', ratePerSec: 50, seed: 1, signal: abort.signal });
      assert.ok(Date.now() - started < 2_000);
    } finally {
      await collector.close();
    }
  });
});

describe('demoBackfill', () => {
  it('hands over the last N days in time-ordered chunks of at most 50k, with progress', async () => {
    const endMs = Date.UTC(2024, 9, 10, 12);
    const chunks: DemoItem[][] = [];
    const progress: number[] = [];
    const result = await demoBackfill({
      days: 1,
      seed: 5,
      eventsPerDay: 110_000,
      endMs,
      write: async (items) => {
        chunks.push(items);
      },
      progress: (fraction) => progress.push(fraction),
    });
    const all = chunks.flat();
    assert.equal(result.events, all.length);
    assert.ok(chunks.length >= 2 && chunks.every((c) => c.length <= 50_000));
    const times = all.map((i) => Date.parse(i.event.time as string));
    assert.ok(times.every((t, i) => t >= endMs - 86_400_000 && t < endMs && (i === 0 || times[i - 1] <= t)));
    assert.equal(progress[progress.length - 1], 1);
    assert.ok(progress.every((p, i) => i === 0 || progress[i - 1] <= p));
    assert.deepEqual(result.incidents, demoIncidents(endMs - 86_400_000, 1, 5));
  });
});
