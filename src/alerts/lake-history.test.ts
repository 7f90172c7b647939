import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { demoIncidents, generateDemo } from '../demo/generator.js';
import type { CanonicalEvent } from '../events/model.js';
import { fromWire } from '../events/normalise.js';
import { LAKE_TABLES } from '../lake/lake.js';
import { LakeWriter } from '../lake/writer.js';
import { fromCanonical } from './detector-event.js';
import { MemoryBreakdowns } from './detectors/root-cause.js';
import type { MinuteFacts } from './detectors/series.js';
import { loadLakeHistory } from './lake-history.js';
import { DEFAULT_SETTINGS, SiteDetection } from './site-detection.js';

const START = Date.UTC(2026, 10, 23, 8);
const END = START + 4 * 3_600_000;

/** Four hours of the demo store (with its incidents), as the collector would store them. */
function demoEvents(): CanonicalEvent[] {
  const out: CanonicalEvent[] = [];
  for (const item of generateDemo({
    startMs: START,
    endMs: END,
    seed: 11,
    eventsPerDay: 150_000,
    incidents: demoIncidents(START - 3 * 3_600_000, 1, 11),
    timeFormat: 'ms',
  })) {
    const t = item.event.time as number;
    const m = fromWire(item.event, {
      siteId: 'demo',
      source: 'demo',
      receivedAt: t + 500,
      ip: item.ip,
      userAgent: item.userAgent,
      salt: 'salt',
      anonymizeIp: true,
      maxFutureMs: 600_000,
      maxPastMs: Number.POSITIVE_INFINITY,
    });
    if (m.ok) out.push(m.value);
  }
  return out;
}

const round = (facts: MinuteFacts) =>
  JSON.parse(JSON.stringify(facts, (_k, v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v)));

function sortBreakdown(f: MinuteFacts): MinuteFacts {
  if (!f.breakdown) return f;
  const b = Object.fromEntries(
    Object.entries(f.breakdown)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([d, values]) => [
        d,
        Object.fromEntries(Object.entries(values).sort(([a], [b]) => a.localeCompare(b))),
      ]),
  );
  return { ...f, breakdown: b };
}

describe('per-minute history from the lake', () => {
  const dir = mkdtempSync(join(tmpdir(), 'storepulse-history-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the same minute facts as the live aggregator for the same events', async () => {
    const events = demoEvents();
    assert.ok(events.length > 15_000, `${events.length} events`);
    const live: MinuteFacts[] = [];
    const site = new SiteDetection('demo', () => DEFAULT_SETTINGS, new MemoryBreakdowns());
    const hooks = { emit: () => {}, closed: (f: MinuteFacts) => live.push(f) };
    for (const e of events) site.ingest(fromCanonical(e), hooks);
    site.advance(END + 5 * 60_000, hooks);

    const writer = await LakeWriter.open(dir);
    try {
      await writer.write(
        LAKE_TABLES.events,
        events.map((e) => JSON.stringify(e)),
        'history-test.parquet',
      );
    } finally {
      writer.close();
    }
    const lake = (await loadLakeHistory({ dataDir: dir, from: START, to: END })).get('demo')!;
    assert.equal(lake.length, live.length);
    assert.ok(live.some((f) => (f.values.orders ?? 0) > 0 && (f.values['errors.checkout'] ?? 0) >= 0));
    for (let i = 0; i < live.length; i++)
      assert.deepEqual(
        round(sortBreakdown(lake[i])),
        round(sortBreakdown(live[i])),
        `minute ${new Date(live[i].minute).toISOString()}`,
      );
  });
});
