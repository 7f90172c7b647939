import { SiteRegistry } from '../auth/sites.js';
import type { Config } from '../config/schema.js';
import { fromWire, type IngestContext } from '../events/normalise.js';
import { DailySalt } from '../events/salts.js';
import { LAKE_TABLES } from '../lake/lake.js';
import { LakeWriter } from '../lake/writer.js';
import { openMetaDb } from '../meta/meta-db.js';
import { progressBar } from './progress.js';

export interface DemoCliOptions {
  mode: 'live' | 'backfill' | 'csv';
  url: string;
  rate: number;
  duration?: number;
  days: number;
  /** backfill: where the history ends (ISO date or time); default now. */
  end?: string;
  eventsPerDay: number;
  conversion: number;
  rows: number;
  out: string;
  seed: number;
  site: string;
}

/** The demo site's write key, creating the site on first use (it lives in the same data dir as the server's). */
function demoSite(config: Config, siteId: string) {
  const db = openMetaDb(config.dataDir);
  try {
    const sites = new SiteRegistry(db, config.sites);
    return {
      site: sites.get(siteId) ?? sites.add(siteId, { name: 'Demo store' }),
      salt: new DailySalt(db).current(),
    };
  } finally {
    db.close();
  }
}

export async function runDemo(config: Config, o: DemoCliOptions): Promise<number> {
  const { demoLive, demoBackfill, demoCsv } = await import('../demo/run.js');

  if (o.mode === 'csv') {
    const bar = progressBar(`writing ${o.out}`);
    await demoCsv({
      out: o.out,
      rows: o.rows,
      seed: o.seed,
      progress: (rows) => bar.update(rows / o.rows, rows),
    });
    bar.done();
    console.log(
      `wrote ${o.rows.toLocaleString('en-US')} REES46-format rows to ${o.out}; load it with: storepulse import ${o.out}`,
    );
    return 0;
  }

  const { site, salt } = demoSite(config, o.site);

  if (o.mode === 'live') {
    try {
      const health = await fetch(`${o.url}/healthz`, { signal: AbortSignal.timeout(3000) });
      if (!health.ok) throw new Error(`status ${health.status}`);
    } catch (err) {
      console.error(
        `storepulse: no storepulse server answers at ${o.url} (${(err as Error).message}).\n` +
          '  Start one in another terminal with `npm start` (same data dir), or pass --url,\n' +
          '  or write history straight into the lake with `storepulse demo --mode backfill`.',
      );
      return 1;
    }
    console.log(`demo store "${site.id}" sending ~${o.rate} events/s to ${o.url} (Ctrl-C to stop)`);
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    await demoLive({
      url: o.url,
      writeKey: site.writeKey,
      ratePerSec: o.rate,
      seed: o.seed,
      durationSec: o.duration,
      signal: abort.signal,
      log: (line) => console.log(line),
    });
    return 0;
  }

  // backfill: normalise exactly as the collector would, then write straight into the lake.
  const endMs = o.end === undefined ? undefined : Date.parse(o.end);
  if (endMs !== undefined && Number.isNaN(endMs)) {
    console.error(`storepulse: --end "${o.end}" is not a date; give an ISO date or time such as 2026-01-01`);
    return 1;
  }
  const writer = await LakeWriter.open(config.dataDir);
  const bar = progressBar(`backfilling ${o.days} day(s)`, { unit: 'events' });
  let chunk = 0;
  let written = 0;
  let rejected = 0;
  try {
    await demoBackfill({
      days: o.days,
      endMs,
      seed: o.seed,
      eventsPerDay: o.eventsPerDay,
      conversion: o.conversion,
      write: async (items) => {
        const lines: string[] = [];
        for (const item of items) {
          const ctx: IngestContext = {
            siteId: site.id,
            source: 'demo',
            receivedAt: Date.now(),
            ip: item.ip,
            userAgent: item.userAgent,
            salt,
            anonymizeIp: config.ingest.anonymizeIp,
            maxFutureMs: config.ingest.maxFutureSeconds * 1000,
            maxPastMs: Number.POSITIVE_INFINITY,
          };
          const m = fromWire(item.event, ctx);
          if (m.ok) lines.push(JSON.stringify({ ...m.value, source: 'demo' }));
          else rejected++;
        }
        await writer.write(LAKE_TABLES.events, lines, `demo-${o.site}-${o.seed}-${chunk++}.parquet`);
        written += lines.length;
      },
      progress: (fraction, events) => bar.update(fraction, events),
    });
  } finally {
    writer.close();
  }
  bar.done();
  console.log(
    `backfilled ${written.toLocaleString('en-US')} events for site "${site.id}" into the lake${rejected ? ` (${rejected} refused by validation)` : ''}`,
  );
  return 0;
}
