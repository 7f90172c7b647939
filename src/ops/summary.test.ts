import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { opsSummary } from './summary.js';

describe('opsSummary', () => {
  it('turns the registry into ingest totals, lag per group and flush times', async () => {
    const registry = new Registry();
    const ingested = new Counter({
      name: 'storepulse_events_ingested_total',
      help: 'h',
      labelNames: ['site', 'source'],
      registers: [registry],
    });
    new Counter({
      name: 'storepulse_events_rejected_total',
      help: 'h',
      labelNames: ['site', 'source'],
      registers: [registry],
    }).inc({ site: 'shop', source: 'api' }, 2);
    const lag = new Gauge({
      name: 'storepulse_stream_lag_records',
      help: 'h',
      labelNames: ['topic', 'group'],
      registers: [registry],
    });
    const flush = new Histogram({
      name: 'storepulse_lake_flush_seconds',
      help: 'h',
      labelNames: ['table'],
      registers: [registry],
    });
    ingested.inc({ site: 'shop', source: 'api' }, 5);
    ingested.inc({ site: 'shop', source: 'js' }, 3);
    lag.set({ topic: 'events', group: 'realtime' }, 7);
    flush.observe({ table: 'events' }, 0.2);
    flush.observe({ table: 'events' }, 0.4);

    const s = await opsSummary(registry, { ready: true, checks: {} }, 1000);
    assert.equal(s.ingested.total, 8);
    assert.equal(s.rejected.total, 2);
    assert.deepEqual(s.streamLag, [{ topic: 'events', group: 'realtime', records: 7 }]);
    assert.equal(s.lakeFlush[0].table, 'events');
    assert.equal(s.lakeFlush[0].flushes, 2);
    assert.ok(Math.abs(s.lakeFlush[0].seconds - 0.6) < 1e-9);
    assert.ok(s.process.uptimeSeconds > 0 && s.process.rssBytes > 0);
  });
});
