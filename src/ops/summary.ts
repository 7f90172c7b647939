import type { MetricObjectWithValues, MetricValue, MetricValueWithName, Registry } from 'prom-client';

/**
 * The Ops page's numbers, read from the Prometheus registry so the dashboard and /metrics can
 * never disagree. Counters are cumulative; the browser turns consecutive polls into rates.
 */

export interface SiteSourceCount {
  site: string;
  source: string;
  total: number;
}

export interface StreamLag {
  topic: string;
  group: string;
  records: number;
}

export interface LakeFlushStats {
  table: string;
  flushes: number;
  seconds: number;
  records: number;
}

export interface ProcessHealth {
  uptimeSeconds: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  cpuSeconds: number;
  eventLoopLagSeconds: number | null;
  eventLoopLagP99Seconds: number | null;
}

export interface OpsSummary {
  at: number;
  ingested: { total: number; bySource: SiteSourceCount[] };
  rejected: { total: number; bySource: SiteSourceCount[] };
  streamLag: StreamLag[];
  lakeFlush: LakeFlushStats[];
  process: ProcessHealth;
  ready: { ready: boolean; checks: Record<string, boolean> };
}

type Metric = MetricObjectWithValues<MetricValue<string> | MetricValueWithName<string>>;

const label = (v: MetricValue<string>, name: string) => String(v.labels[name] ?? '');

function counts(metric: Metric | undefined): { total: number; bySource: SiteSourceCount[] } {
  const bySource = (metric?.values ?? []).map((v) => ({
    site: label(v, 'site'),
    source: label(v, 'source'),
    total: v.value,
  }));
  return { total: bySource.reduce((s, c) => s + c.total, 0), bySource };
}

function gauge(metrics: Map<string, Metric>, name: string): number | null {
  const v = metrics.get(name)?.values[0];
  return v === undefined ? null : v.value;
}

function flushStats(hist: Metric | undefined, written: Metric | undefined): LakeFlushStats[] {
  const byTable = new Map<string, LakeFlushStats>();
  const row = (table: string) => {
    const r = byTable.get(table) ?? { table, flushes: 0, seconds: 0, records: 0 };
    byTable.set(table, r);
    return r;
  };
  for (const v of (hist?.values ?? []) as MetricValueWithName<string>[]) {
    if (v.metricName?.endsWith('_count')) row(label(v, 'table')).flushes = v.value;
    else if (v.metricName?.endsWith('_sum')) row(label(v, 'table')).seconds = v.value;
  }
  for (const v of written?.values ?? []) row(label(v, 'table')).records = v.value;
  return [...byTable.values()].sort((a, b) => a.table.localeCompare(b.table));
}

export async function opsSummary(
  registry: Registry,
  ready: OpsSummary['ready'],
  now = Date.now(),
): Promise<OpsSummary> {
  const json = (await registry.getMetricsAsJSON()) as Metric[];
  const metrics = new Map(json.map((m) => [m.name, m]));
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    at: now,
    ingested: counts(metrics.get('storepulse_events_ingested_total')),
    rejected: counts(metrics.get('storepulse_events_rejected_total')),
    streamLag: (metrics.get('storepulse_stream_lag_records')?.values ?? []).map((v) => ({
      topic: label(v, 'topic'),
      group: label(v, 'group'),
      records: v.value,
    })),
    lakeFlush: flushStats(
      metrics.get('storepulse_lake_flush_seconds'),
      metrics.get('storepulse_lake_records_written_total'),
    ),
    process: {
      uptimeSeconds: process.uptime(),
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      eventLoopLagSeconds: gauge(metrics, 'storepulse_process_nodejs_eventloop_lag_seconds'),
      eventLoopLagP99Seconds: gauge(metrics, 'storepulse_process_nodejs_eventloop_lag_p99_seconds'),
    },
    ready,
  };
}
