import { useEffect, useState } from 'react';
import { ApiError, Unauthorized } from './api';
import { baseOption, Chart, timeAxis, valueAxis } from './chart';

/**
 * Requests per step stacked by status class (2xx/3xx, 4xx, 5xx) with the p95 response time,
 * from the log metrics (GET /api/v1/sites/:site/logs/metrics). It covers every request line
 * of the range, whatever the query: the query narrows the lines below, not these metrics.
 */

interface Point {
  t: number;
  requests: number;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  p95: number | null;
}
interface Metrics {
  step: number;
  total: Point[];
}

export function LogMetricsPanel(props: {
  site: string;
  from: number | null;
  to: number | null;
  theme: string;
  onUnauthorized: () => void;
}) {
  const { site, from, to, onUnauthorized } = props;
  const [data, setData] = useState<Metrics | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stale = false;
    const end = to ?? Date.now();
    const params = new URLSearchParams({ from: String(from ?? end - 3_600_000), to: String(end) });
    fetch(`/api/v1/sites/${encodeURIComponent(site)}/logs/metrics?${params}`, { credentials: 'same-origin' })
      .then(async (res) => {
        if (res.status === 401) throw new Unauthorized();
        const body = await res.json().catch(() => null);
        if (!res.ok) throw new ApiError(res.status, body?.error ?? `${res.status} ${res.statusText}`);
        return body as Metrics;
      })
      .then(
        (m) => {
          if (stale) return;
          setData(m);
          setError(null);
        },
        (err) => {
          if (stale) return;
          if (err instanceof Unauthorized) onUnauthorized();
          else setError(err instanceof Error ? err.message : String(err));
        },
      );
    return () => {
      stale = true;
    };
  }, [site, from, to, onUnauthorized]);

  if (error)
    return (
      <p className="small muted" data-testid="log-metrics-error">
        Log metrics: {error}
      </p>
    );
  const points = data?.total ?? [];
  const sum = (k: 'requests' | 's4xx' | 's5xx') => points.reduce((n, p) => n + p[k], 0);
  const p95s = points.map((p) => p.p95).filter((v): v is number => v !== null);
  const worst = p95s.length > 0 ? Math.max(...p95s) : null;
  const summary = `${sum('requests')} requests, ${sum('s4xx')} 4xx, ${sum('s5xx')} 5xx, highest p95 ${worst === null ? '—' : `${worst} ms`}`;
  const bar = (name: string, pick: (p: Point) => number) => ({
    type: 'bar',
    name,
    stack: 'requests',
    barWidth: '90%',
    data: points.map((p) => [p.t, pick(p)]),
  });
  return (
    <section className="card logs-chart" aria-label="Request metrics">
      <p className="small muted">
        Requests by status and p95 response time{data ? ` per ${Math.round(data.step / 60_000)} min` : ''}:{' '}
        <span data-testid="log-metrics-summary">{summary}</span>
      </p>
      <Chart
        theme={props.theme}
        label={`Requests by status class and p95 response time: ${summary}`}
        testId="log-metrics-chart"
        summary={summary}
        option={{
          ...baseOption(),
          xAxis: timeAxis(),
          yAxis: [
            valueAxis(),
            { ...valueAxis(), minInterval: 0, name: 'p95 ms', splitLine: { show: false } },
          ],
          series: [
            bar('2xx/3xx', (p) => p.s2xx + p.s3xx),
            bar('4xx', (p) => p.s4xx),
            bar('5xx', (p) => p.s5xx),
            {
              type: 'line',
              name: 'p95 ms',
              yAxisIndex: 1,
              showSymbol: false,
              connectNulls: false,
              data: points.map((p) => [p.t, p.p95]),
            },
          ],
        }}
      />
    </section>
  );
}
