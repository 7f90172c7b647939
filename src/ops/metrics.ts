import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { IngestCounters } from '../collector/ingest.js';
import type { EventLog } from '../stream/event-log.js';

export interface Metrics extends IngestCounters {
  registry: Registry;
  flush(table: string, records: number, ms: number): void;
}

/** Prometheus metrics for /metrics: ingest, rejects, stream lag per consumer group, flush durations. */
export function createMetrics(log: EventLog, groups: { topic: string; group: string }[]): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'storepulse_process_' });
  const ingested = new Counter({
    name: 'storepulse_events_ingested_total',
    help: 'Events accepted and durable in the stream',
    labelNames: ['site', 'source'],
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'storepulse_events_rejected_total',
    help: 'Inputs refused and quarantined in bad_records',
    labelNames: ['site', 'source'],
    registers: [registry],
  });
  const flushSeconds = new Histogram({
    name: 'storepulse_lake_flush_seconds',
    help: 'Time to write one stream batch to Parquet',
    labelNames: ['table'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [registry],
  });
  const flushedRecords = new Counter({
    name: 'storepulse_lake_records_written_total',
    help: 'Records written to the lake',
    labelNames: ['table'],
    registers: [registry],
  });
  new Gauge({
    name: 'storepulse_stream_lag_records',
    help: 'Records in the stream not yet handled by a consumer group',
    labelNames: ['topic', 'group'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { topic, group } of groups) {
        const [stats, committed] = await Promise.all([log.stats(topic), log.committed(topic, group)]);
        this.set({ topic, group }, Math.max(0, stats.lastPosition - committed));
      }
    },
  });
  return {
    registry,
    accepted: (site, source, n) => ingested.inc({ site, source }, n),
    rejected: (site, source, n) => rejected.inc({ site: site ?? 'unknown', source }, n),
    flush: (table, records, ms) => {
      flushSeconds.observe({ table }, ms / 1000);
      flushedRecords.inc({ table }, records);
    },
  };
}
