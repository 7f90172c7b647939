import type { EChartsCoreOption } from 'echarts/core';
import { useEffect, useMemo, useState } from 'react';
import { api, Unauthorized } from './api';
import type { OpsSummary } from './api-types';
import { baseOption, Chart, timeAxis, valueAxis } from './chart';
import { fmtBytes, fmtDuration, fmtInt, fmtMs, fmtTime } from './format';
import { Card, Counter } from './widgets';

const POLL_MS = 2000;
/** Five minutes of samples: enough for a trend, small enough to keep in the tab. */
const KEEP = 150;

/** One poll turned into rates against the poll before it. */
interface Sample {
  at: number;
  ingestPerSec: number;
  rejectPerSec: number;
  cpuPct: number;
  lag: Record<string, number>;
  /** Mean flush duration per table over the interval (null: no flush happened). */
  flushMs: Record<string, number | null>;
}

const lagKey = (l: { topic: string; group: string }) => `${l.group} ← ${l.topic}`;

function sampleOf(prev: OpsSummary | null, cur: OpsSummary): Sample {
  const dt = prev ? Math.max(0.001, (cur.at - prev.at) / 1000) : 1;
  const rate = (a: number, b: number | undefined) => (b === undefined ? 0 : Math.max(0, a - b) / dt);
  const flushMs: Sample['flushMs'] = {};
  for (const f of cur.lakeFlush) {
    const p = prev?.lakeFlush.find((x) => x.table === f.table);
    const n = f.flushes - (p?.flushes ?? 0);
    flushMs[f.table] = n > 0 ? ((f.seconds - (p?.seconds ?? 0)) / n) * 1000 : null;
  }
  return {
    at: cur.at,
    ingestPerSec: rate(cur.ingested.total, prev?.ingested.total),
    rejectPerSec: rate(cur.rejected.total, prev?.rejected.total),
    cpuPct: prev ? rate(cur.process.cpuSeconds, prev.process.cpuSeconds) * 100 : 0,
    lag: Object.fromEntries(cur.streamLag.map((l) => [lagKey(l), l.records])),
    flushMs,
  };
}

function lineOption(
  samples: Sample[],
  lines: Record<string, (s: Sample) => number | null>,
  opts: { points?: boolean } = {},
): EChartsCoreOption {
  // A fixed five-minute window, so the first samples do not stretch the axis over days.
  const end = samples.at(-1)?.at ?? Date.now();
  return {
    ...baseOption(),
    xAxis: { ...timeAxis(), min: end - KEEP * POLL_MS, max: end },
    yAxis: valueAxis(),
    series: Object.entries(lines).map(([name, pick]) => ({
      name,
      type: 'line',
      // Flushes are sparse (one every few seconds): draw them as points, not a line with gaps.
      showSymbol: opts.points ?? false,
      connectNulls: true,
      data: samples.map((s) => [s.at, pick(s)]),
    })),
  };
}

/** Polls /api/v1/ops every 2 s and keeps a short history for the charts. */
function useOps(onUnauthorized: () => void) {
  const [latest, setLatest] = useState<OpsSummary | null>(null);
  const [samples, setSamples] = useState<Sample[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let prev: OpsSummary | null = null;
    let stopped = false;
    const poll = () =>
      api.ops().then(
        (cur) => {
          if (stopped) return;
          if (prev) {
            const s = sampleOf(prev, cur);
            setSamples((list) => [...list.slice(-(KEEP - 1)), s]);
          }
          prev = cur;
          setLatest(cur);
          setError(null);
        },
        (err) => {
          if (err instanceof Unauthorized) onUnauthorized();
          else if (!stopped) setError(String(err.message ?? err));
        },
      );
    poll();
    const timer = setInterval(poll, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [onUnauthorized]);
  return { latest, samples, error };
}

export function OpsPage(props: { theme: string; onUnauthorized: () => void }) {
  const { latest: o, samples, error } = useOps(props.onUnauthorized);
  const last = samples.at(-1);
  const ingestChart = useMemo(
    () =>
      lineOption(samples, { 'accepted / s': (s) => s.ingestPerSec, 'rejected / s': (s) => s.rejectPerSec }),
    [samples],
  );
  // One line per consumer group and per lake table, as the latest poll lists them.
  const lagChart = useMemo(() => {
    const names = (o?.streamLag ?? []).map(lagKey);
    return lineOption(samples, Object.fromEntries(names.map((n) => [n, (s: Sample) => s.lag[n] ?? null])));
  }, [samples, o]);
  const flushChart = useMemo(() => {
    const tables = (o?.lakeFlush ?? []).map((f) => f.table);
    return lineOption(
      samples,
      Object.fromEntries(tables.map((t) => [t, (s: Sample) => s.flushMs[t] ?? null])),
      { points: true },
    );
  }, [samples, o]);

  if (!o) return <main className="page muted">{error ?? 'Loading…'}</main>;
  const p = o.process;
  const maxLag = Math.max(0, ...o.streamLag.map((l) => l.records));

  return (
    <main className="page" data-testid="ops-page">
      <p className="status-line">
        <span className={`dot ${o.ready.ready ? 'live' : 'error'}`} aria-hidden="true" />
        <span data-testid="ops-ready">{o.ready.ready ? 'Ready' : 'Not ready'}</span>
        <span className="muted"> · updated {fmtTime(o.at)} · every 2 s</span>
        {error && <span className="error"> · {error}</span>}
      </p>
      <div className="counters">
        <Counter
          testId="ops-ingest-rate"
          label="Ingested / s"
          value={last ? last.ingestPerSec.toFixed(1) : '…'}
          hint={`${fmtInt(o.ingested.total)} since start`}
        />
        <Counter
          testId="ops-rejected"
          label="Rejected records"
          value={fmtInt(o.rejected.total)}
          hint={last ? `${last.rejectPerSec.toFixed(1)} / s now` : undefined}
          tone={o.rejected.total > 0 ? 'warn' : undefined}
        />
        <Counter
          testId="ops-max-lag"
          label="Max stream lag"
          value={fmtInt(maxLag)}
          hint="records behind"
          tone={maxLag > 10_000 ? 'warn' : undefined}
        />
        <Counter testId="ops-uptime" label="Uptime" value={fmtDuration(p.uptimeSeconds)} />
        <Counter
          testId="ops-rss"
          label="Memory (RSS)"
          value={fmtBytes(p.rssBytes)}
          hint={`heap ${fmtBytes(p.heapUsedBytes)} of ${fmtBytes(p.heapTotalBytes)}`}
        />
        <Counter
          testId="ops-loop-lag"
          label="Event-loop lag"
          value={fmtMs(p.eventLoopLagSeconds)}
          hint={`p99 ${fmtMs(p.eventLoopLagP99Seconds)}`}
        />
        <Counter
          testId="ops-cpu"
          label="CPU"
          value={last ? `${last.cpuPct.toFixed(0)}%` : '…'}
          hint="of one core"
        />
      </div>
      <div className="grid">
        <Card title="Ingestion rate" wide>
          <Chart
            option={ingestChart}
            theme={props.theme}
            label="Events accepted and rejected per second"
            testId="chart-ingest"
          />
        </Card>
        <Card title="Stream lag per consumer group" wide testId="ops-lag">
          <Chart
            option={lagChart}
            theme={props.theme}
            label="Stream lag per consumer group"
            testId="chart-lag"
          />
          <table className="facts-table" data-testid="lag-table">
            <thead>
              <tr>
                <th>Consumer group ← topic</th>
                <th>Records behind</th>
              </tr>
            </thead>
            <tbody>
              {o.streamLag.map((l) => (
                <tr key={lagKey(l)}>
                  <td>{lagKey(l)}</td>
                  <td>{fmtInt(l.records)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
        <Card title="Lake flush time (mean per flush, ms)" wide testId="ops-flush">
          <Chart option={flushChart} theme={props.theme} label="Lake flush duration" testId="chart-flush" />
          <table className="facts-table">
            <thead>
              <tr>
                <th>Table</th>
                <th>Flushes</th>
                <th>Mean</th>
                <th>Records written</th>
              </tr>
            </thead>
            <tbody>
              {o.lakeFlush.map((f) => (
                <tr key={f.table}>
                  <td>{f.table}</td>
                  <td>{fmtInt(f.flushes)}</td>
                  <td>{f.flushes ? fmtMs(f.seconds / f.flushes) : '—'}</td>
                  <td>{fmtInt(f.records)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
        <Card title="Ingested by site and source">
          <table className="facts-table" data-testid="ingest-table">
            <thead>
              <tr>
                <th>Site</th>
                <th>Source</th>
                <th>Accepted</th>
                <th>Rejected</th>
              </tr>
            </thead>
            <tbody>
              {mergeSources(o).map((r) => (
                <tr key={`${r.site}/${r.source}`}>
                  <td>{r.site}</td>
                  <td>{r.source}</td>
                  <td>{fmtInt(r.accepted)}</td>
                  <td>{fmtInt(r.rejected)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Card>
        <Card title="Readiness">
          <ul className="checks">
            {Object.entries(o.ready.checks).map(([name, ok]) => (
              <li key={name} className={ok ? 'ok' : 'bad'}>
                {ok ? '✓' : '✗'} {name}
              </li>
            ))}
          </ul>
        </Card>
      </div>
    </main>
  );
}

function mergeSources(o: OpsSummary) {
  const rows = new Map<string, { site: string; source: string; accepted: number; rejected: number }>();
  const row = (site: string, source: string) => {
    const k = `${site}/${source}`;
    const r = rows.get(k) ?? { site, source, accepted: 0, rejected: 0 };
    rows.set(k, r);
    return r;
  };
  for (const c of o.ingested.bySource) row(c.site, c.source).accepted += c.total;
  for (const c of o.rejected.bySource) row(c.site, c.source).rejected += c.total;
  return [...rows.values()].sort((a, b) => a.site.localeCompare(b.site) || a.source.localeCompare(b.source));
}
