import { MarkAreaComponent, MarkLineComponent } from 'echarts/components';
import { use } from 'echarts/core';
import { useEffect, useState } from 'react';
import { type Alert, alertsApi, type RulePreview, type SeriesPoint } from './alerts-api';
import { baseOption, Chart, chartColors, timeAxis, valueAxis } from './chart';
import { fmtClock } from './format';
import { useApiAction } from './use-api-action';

use([MarkLineComponent, MarkAreaComponent]);

const HOUR = 3_600_000;

/** Ratios the engine's per-minute series hold as two sums (src/alerts/detectors/series.ts RATIOS). */
function ratioParts(metric: string): [string, string] | null {
  const fixed: Record<string, [string, string]> = {
    aov: ['revenue', 'orders'],
    conversion: ['orders', 'sessions'],
    bot_share: ['bot_requests', 'requests'],
  };
  if (fixed[metric]) return fixed[metric];
  if (metric.startsWith('error_rate.')) {
    const s = metric.slice('error_rate.'.length);
    return [`errors.${s}`, `requests.${s}`];
  }
  return null;
}

/** The per-minute metric an alert is about, by its labels. */
export function metricOf(alert: Pick<Alert, 'labels'>): string {
  const l = alert.labels;
  if (l.metric) return l.metric;
  // Log alerts (rule log_errors) are about the log-derived minutes, not the events'.
  if (l.series) return l.source === 'logs' ? `logs.errors.${l.series}` : `errors.${l.series}`;
  switch (l.alertname) {
    case 'bot_wave':
      return 'bot_sessions';
    case 'cart_bots':
      return 'carts';
    case 'card_testing':
      return 'errors.checkout';
    default:
      return 'requests';
  }
}

/** Points of a metric; a ratio is divided minute by minute from its two sums, its expectation kept. */
async function loadSeries(site: string, metric: string, from: number, to: number): Promise<SeriesPoint[]> {
  const parts = ratioParts(metric);
  if (!parts) return alertsApi.series(site, metric, from, to);
  const [own, num, den] = await Promise.all([
    alertsApi.series(site, metric, from, to),
    alertsApi.series(site, parts[0], from, to),
    alertsApi.series(site, parts[1], from, to),
  ]);
  return own.map((p, i) => {
    const n = num[i]?.value;
    const d = den[i]?.value;
    return { ...p, value: n === null || d === null || n === undefined || !d ? null : n / d };
  });
}

/**
 * The metric an alert is about, per minute, with its seasonal expectation, from a few hours
 * before the alert to its end; the alert's time is shaded and its start marked.
 */
export function AlertChart(props: { alert: Alert; theme: string; onUnauthorized: () => void }) {
  const { alert } = props;
  const { error, run } = useApiAction(props.onUnauthorized);
  const [points, setPoints] = useState<SeriesPoint[] | null>(null);
  const metric = metricOf(alert);
  const start = alert.firingSince ?? alert.since;
  const end = alert.resolvedAt ?? null;
  // An order-rate alert is charted as its rule saw it: the value over the alert's window, with the band.
  const windowMinutes =
    alert.labels.alertname === 'order_rate_anomaly' && typeof alert.evidence?.windowMinutes === 'number'
      ? alert.evidence.windowMinutes
      : null;

  useEffect(() => {
    const to = Math.min(Date.now(), (end ?? Date.now()) + HOUR / 2);
    const from = Math.max(start - 3 * HOUR, to - 47 * HOUR);
    void run(async () =>
      setPoints(
        windowMinutes
          ? await alertsApi.series(alert.site, metric, from, to, windowMinutes)
          : await loadSeries(alert.site, metric, from, to),
      ),
    );
  }, [run, alert.site, metric, start, end, windowMinutes]);

  if (error) return <p className="error small">{error}</p>;
  if (!points) return <p className="muted small">Loading the chart…</p>;
  const known = points.filter((p) => p.value !== null);
  if (known.length === 0)
    return <p className="muted small">No per-minute data of “{metric}” around this alert.</p>;
  const c = chartColors();
  const per = windowMinutes ? `over ${windowMinutes} min` : 'per minute';
  const banded = points.some((p) => p.lower != null && p.upper != null);
  // The band as a stacked pair: an invisible lower line and the band's height filled on top of it.
  const band = banded
    ? [
        {
          name: 'band lower',
          type: 'line',
          stack: 'band',
          showSymbol: false,
          silent: true,
          lineStyle: { opacity: 0 },
          tooltip: { show: false },
          data: points.map((p) => [p.minute, p.lower ?? null]),
        },
        {
          name: 'expected band',
          type: 'line',
          stack: 'band',
          showSymbol: false,
          silent: true,
          lineStyle: { opacity: 0 },
          areaStyle: { color: 'rgba(37, 99, 235, 0.15)' },
          data: points.map((p) => [p.minute, p.lower != null && p.upper != null ? p.upper - p.lower : null]),
        },
      ]
    : [];
  const option = {
    ...baseOption(),
    xAxis: timeAxis(),
    yAxis: { ...valueAxis(), minInterval: 0 },
    series: [
      ...band,
      {
        name: `${metric} ${per}`,
        type: 'line',
        showSymbol: false,
        data: points.map((p) => [p.minute, p.value]),
        markLine: {
          symbol: 'none',
          silent: true,
          lineStyle: { color: c.palette[3] },
          label: { formatter: 'alert', color: c.muted },
          data: [{ xAxis: start }],
        },
        markArea: {
          silent: true,
          itemStyle: { color: 'rgba(220, 38, 38, 0.12)' },
          data: [[{ xAxis: alert.since }, { xAxis: end ?? points[points.length - 1].minute }]],
        },
      },
      {
        name: 'expected (same time, past weeks)',
        type: 'line',
        showSymbol: false,
        lineStyle: { type: 'dashed' },
        data: points.map((p) => [p.minute, p.expected]),
      },
    ],
  };
  return (
    <>
      <Chart
        option={option}
        theme={props.theme}
        label={`${metric} ${per} around the alert, with the expected value${banded ? ' and band' : ''}`}
        testId="alert-chart"
        summary={`${metric} ${per}: ${known.length} minutes${banded ? `, expected band shown for ${points.filter((p) => p.upper != null).length}` : ''}`}
      />
      {points.every((p) => p.expected === null) && (
        <p className="muted small">
          No expected value yet: the baseline needs this time of day on at least 3 past days.
        </p>
      )}
    </>
  );
}

/** The rule's window value over the last 7 days, the threshold, and the times it would have fired. */
export function PreviewChart(props: { preview: RulePreview; theme: string }) {
  const { preview: p } = props;
  const c = chartColors();
  const option = {
    ...baseOption(),
    xAxis: timeAxis(),
    yAxis: { ...valueAxis(), minInterval: 0 },
    tooltip: { trigger: 'axis' },
    series: [
      {
        name: `${p.metric} over ${p.windowMinutes} min`,
        type: 'line',
        showSymbol: false,
        sampling: 'lttb',
        data: p.series,
        markLine: {
          symbol: 'none',
          silent: true,
          lineStyle: { color: c.palette[3], type: 'dashed' },
          label: { formatter: `${p.op} ${p.threshold}`, color: c.muted, position: 'insideEndTop' },
          data: [{ yAxis: p.threshold }],
        },
        markArea: {
          silent: true,
          itemStyle: { color: 'rgba(220, 38, 38, 0.18)' },
          data: p.intervals.map((i) => [{ xAxis: i.start }, { xAxis: i.end }]),
        },
      },
    ],
  };
  return (
    <Chart
      option={option}
      theme={props.theme}
      label={`${p.metric} over ${p.windowMinutes} minutes in the last 7 days, shaded where the rule would have fired`}
      testId="rule-preview-chart"
      summary={`${p.intervals.length} intervals, ${p.firedMinutes} minutes, from ${fmtClock(p.from, true)}`}
    />
  );
}
