import { FunnelChart, HeatmapChart } from 'echarts/charts';
import { VisualMapComponent } from 'echarts/components';
import { type EChartsCoreOption, use } from 'echarts/core';
import { baseOption, Chart, chartColors, valueAxis } from './chart';
import type { Cell, ReportAnswer } from './reports-api';
import { cellText, rowLabel } from './reports-format';

// The shared wrapper registers line and bar; reports also draw heatmaps and a funnel.
use([HeatmapChart, FunnelChart, VisualMapComponent]);

/** Bars past this many are unreadable; the chart names how many of the table's rows it shows. */
const MAX_BARS = 15;

interface ChartSpec {
  option: EChartsCoreOption;
  label: string;
  /** `key=sum` of every drawn series plus `points=n`, so a test or tool can read what is drawn. */
  summary: string;
  tall?: boolean;
  /** What the chart cannot say itself. */
  note?: string;
}

type Row = Record<string, Cell>;
const num = (c: Cell) => (typeof c === 'number' ? c : 0);
const round2 = (n: number) => Math.round(n * 100) / 100;
const summarise = (rows: Row[], keys: string[]) =>
  [
    ...keys.map((k) => `${k}=${round2(rows.reduce((s, r) => s + num(r[k]), 0))}`),
    `points=${rows.length}`,
  ].join(';');

const pct = (v: number) => `${Math.round(v * 100)}%`;
const money = (v: unknown) => (typeof v === 'number' ? cellText(v, 'money') : String(v ?? '—'));
const ratio = (v: unknown) => (typeof v === 'number' ? cellText(v, 'ratio') : '—');
const count = (v: unknown) => (typeof v === 'number' ? cellText(v, 'integer') : '—');

function categoryAxis(labels: string[]) {
  const c = chartColors();
  return {
    type: 'category',
    data: labels,
    axisLine: { lineStyle: { color: c.grid } },
    axisLabel: { color: c.muted, hideOverlap: true, width: 150, overflow: 'truncate' },
  };
}
const pctAxis = () => ({
  ...valueAxis(),
  minInterval: undefined,
  splitLine: { show: false },
  axisLabel: { color: chartColors().muted, formatter: pct },
});

type Series = {
  key: string;
  name: string;
  type: 'line' | 'bar';
  fmt?: (v: unknown) => string;
  /** Drawn against a second axis: a share, or an amount of another size than the bars'. */
  right?: 'pct' | 'value';
};

/** Series over the rows in their order (days, weeks, or ranked names); `horizontal` for long names. */
function xy(
  rows: Row[],
  labelOf: (r: Row) => string,
  series: Series[],
  horizontal = false,
): EChartsCoreOption {
  const labels = rows.map(labelOf);
  const cat = categoryAxis(labels);
  const right = series.find((s) => s.right)?.right;
  const values = right
    ? [
        valueAxis(),
        right === 'pct' ? pctAxis() : { ...valueAxis(), minInterval: undefined, splitLine: { show: false } },
      ]
    : valueAxis();
  return {
    ...baseOption(),
    tooltip: { trigger: 'axis', confine: true },
    ...(horizontal
      ? { xAxis: values, yAxis: { ...cat, inverse: true } }
      : { xAxis: { ...cat, boundaryGap: series.some((s) => s.type === 'bar') }, yAxis: values }),
    series: series.map((s) => ({
      name: s.name,
      type: s.type,
      showSymbol: rows.length < 40,
      barMaxWidth: 18,
      ...(s.right ? { [horizontal ? 'xAxisIndex' : 'yAxisIndex']: 1 } : {}),
      tooltip: { valueFormatter: s.fmt ?? count },
      data: rows.map((r) => r[s.key] ?? null),
    })),
  };
}

function spec(
  rows: Row[],
  labelOf: (r: Row) => string,
  series: Series[],
  label: string,
  horizontal = false,
): ChartSpec {
  return {
    option: xy(rows, labelOf, series, horizontal),
    label,
    summary: summarise(
      rows,
      series.filter((s) => s.fmt !== ratio).map((s) => s.key),
    ),
    tall: horizontal,
  };
}

function heatmap(a: ReportAnswer): ChartSpec {
  const byWeekday = a.params.by === 'weekday';
  const metric = a.params.metric ?? 'views';
  const rows = a.rows;
  const cats: string[] = [];
  for (const r of [...rows].sort((x, y) => num(x.rank) - num(y.rank))) {
    const c = rowLabel(r, ['category']);
    if (!cats.includes(c)) cats.push(c);
  }
  const slots = byWeekday
    ? ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun']
    : [...Array(24).keys()].map(String);
  const slotOf = (r: Row) => (byWeekday ? num(r.weekday) - 1 : num(r.hour));
  const max = Math.max(0, ...rows.map((r) => num(r[metric])));
  const c = chartColors();
  return {
    option: {
      ...baseOption(),
      tooltip: { trigger: 'item', confine: true, valueFormatter: metric === 'revenue' ? money : count },
      legend: { show: false },
      grid: { left: 8, right: 12, top: 8, bottom: 48, containLabel: true },
      xAxis: { ...categoryAxis(slots), name: byWeekday ? '' : 'hour (UTC)', splitArea: { show: true } },
      yAxis: { ...categoryAxis(cats), inverse: true, splitArea: { show: true } },
      visualMap: {
        min: 0,
        max: max || 1,
        calculable: false,
        orient: 'horizontal',
        left: 'center',
        bottom: 0,
        itemHeight: 120,
        textStyle: { color: c.muted },
        inRange: { color: [c.grid, c.palette[0]] },
      },
      series: [
        {
          name: metric,
          type: 'heatmap',
          data: rows.map((r) => [slotOf(r), cats.indexOf(rowLabel(r, ['category'])), num(r[metric])]),
        },
      ],
    },
    label: `Heatmap of ${metric} per category and ${byWeekday ? 'weekday' : 'hour of day'}`,
    summary: `${metric}=${round2(rows.reduce((s, r) => s + num(r[metric]), 0))};categories=${cats.length};points=${rows.length}`,
    tall: true,
  };
}

/** Totals of view → cart → purchase sessions; sessions add up over days, so only by day. */
function funnelTotals(rows: Row[]): ChartSpec {
  const steps = [
    ['view_sessions', 'Viewed a product'],
    ['cart_sessions', 'Added to cart'],
    ['purchase_sessions', 'Purchased'],
  ] as const;
  const totals = steps.map(([k]) => rows.reduce((s, r) => s + num(r[k]), 0));
  const c = chartColors();
  return {
    option: {
      ...baseOption(),
      tooltip: { trigger: 'item', valueFormatter: count },
      series: [
        {
          name: 'Sessions',
          type: 'funnel',
          sort: 'none',
          top: 32,
          bottom: 8,
          minSize: '8%',
          label: { color: c.fg, formatter: '{b}: {c}' },
          itemStyle: { borderColor: 'transparent' },
          data: steps.map(([, name], i) => ({ name, value: totals[i] })),
        },
      ],
    },
    label: 'Funnel of sessions over the whole range: viewed, added to cart, purchased',
    summary: `${steps.map(([k], i) => `${k}=${totals[i]}`).join(';')};points=${rows.length}`,
  };
}

/** Brands first as the table lists them (flagged first): their view → purchase rate against their category's. */
function brandChart(rows: Row[]): ChartSpec {
  const shown = rows.slice(0, MAX_BARS);
  const s = spec(
    shown,
    (r) => rowLabel(r, ['brand']),
    [
      { key: 'view_to_purchase', name: 'View → purchase', type: 'bar', fmt: ratio },
      { key: 'category_view_to_purchase', name: 'Category view → purchase', type: 'bar', fmt: ratio },
    ],
    'View to purchase rate of each brand next to its category',
    true,
  );
  const warn = getComputedStyle(document.documentElement).getPropertyValue('--warn').trim();
  const option = s.option as { series: { data: unknown[] }[]; xAxis: unknown };
  option.series[0].data = shown.map((r) => ({
    value: r.view_to_purchase,
    ...(r.flags ? { itemStyle: { color: warn } } : {}),
  }));
  option.xAxis = pctAxis();
  return {
    ...s,
    note: `Bars in the warning colour are flagged brands; the chart shows the first ${shown.length} rows of the table.`,
    summary: `flagged=${shown.filter((r) => r.flags).length};points=${shown.length}`,
  };
}

/** The charts that suit a report's answer (most reports one; funnel by day and revenue two). */
export function chartsFor(a: ReportAnswer): ChartSpec[] {
  const rows = a.rows;
  const day = (r: Row) => String(r.day ?? r.period ?? '');
  switch (a.report) {
    case 'visitors':
      return [
        spec(
          rows,
          day,
          [
            { key: 'visitors', name: 'Visitors', type: 'line' },
            { key: 'sessions', name: 'Sessions', type: 'line' },
          ],
          `Visitors and sessions per ${a.params.grain ?? 'day'}`,
        ),
      ];
    case 'cart-abandonment':
      if (a.params.by === 'day' || !a.params.by)
        return [
          spec(
            rows,
            day,
            [
              { key: 'value_left', name: 'Value left', type: 'bar', fmt: money },
              { key: 'abandonment_rate', name: 'Abandonment rate', type: 'line', fmt: ratio, right: 'pct' },
            ],
            'Value left in abandoned carts (bars) and abandonment rate (line) per day',
          ),
        ];
      return [
        spec(
          rows.slice(0, MAX_BARS),
          (r) => rowLabel(r, a.params.by === 'brand' ? ['brand'] : ['product_id', 'brand']),
          [{ key: 'value_left', name: 'Value left', type: 'bar', fmt: money }],
          `Value left in abandoned carts per ${a.params.by}`,
          true,
        ),
      ];
    case 'category-heatmap':
      return [heatmap(a)];
    case 'brand-marketing':
      return [brandChart(rows)];
    case 'funnel': {
      const dim = a.params.dimension ?? 'day';
      const bars: Series[] = [
        { key: 'view_sessions', name: 'Sessions with a view', type: 'bar' },
        { key: 'cart_sessions', name: 'Sessions with a cart', type: 'bar' },
        { key: 'purchase_sessions', name: 'Sessions with a purchase', type: 'bar' },
      ];
      if (dim === 'day')
        return [spec(rows, day, bars, 'Sessions reaching each step per day'), funnelTotals(rows)];
      return [
        spec(
          rows.slice(0, MAX_BARS),
          (r) => rowLabel(r, [dim]),
          bars,
          `Sessions reaching each step per ${dim}`,
          true,
        ),
      ];
    }
    case 'revenue':
      return [
        spec(
          rows,
          day,
          [
            { key: 'revenue', name: 'Revenue', type: 'bar', fmt: money },
            { key: 'orders', name: 'Orders', type: 'line', right: 'value' },
          ],
          'Revenue (bars) and orders (line) per day',
        ),
        spec(
          rows,
          day,
          [
            { key: 'new_buyers', name: 'New buyers', type: 'bar' },
            { key: 'returning_buyers', name: 'Returning buyers', type: 'bar' },
            {
              key: 'average_order_value',
              name: 'Average order value',
              type: 'line',
              fmt: money,
              right: 'value',
            },
          ],
          'New and returning buyers (bars) and average order value (line) per day',
        ),
      ].map((s, i) => (i === 1 ? stacked(s) : s));
    case 'traffic-sources': {
      const keys = a.params.by === 'campaign' ? ['utm_source', 'utm_campaign'] : [a.params.by ?? 'referrer'];
      return [
        spec(
          rows.slice(0, MAX_BARS),
          (r) => rowLabel(r, keys),
          [
            { key: 'sessions', name: 'Sessions', type: 'bar' },
            { key: 'converting_sessions', name: 'Converting sessions', type: 'bar' },
          ],
          'Sessions and converting sessions per traffic source',
          true,
        ),
      ];
    }
  }
}

/** New and returning buyers are parts of one whole. */
function stacked(s: ChartSpec): ChartSpec {
  const o = s.option as { series: { stack?: string; type: string }[] };
  for (const x of o.series) if (x.type === 'bar') x.stack = 'buyers';
  return s;
}

export function ReportCharts(props: { answer: ReportAnswer; theme: string }) {
  return (
    <div className="report-charts">
      {chartsFor(props.answer).map((c, i) => (
        <div key={c.label} className={c.tall ? 'report-chart tall' : 'report-chart'}>
          <Chart
            option={c.option}
            label={c.label}
            theme={props.theme}
            testId={i === 0 ? 'report-chart' : `report-chart-${i + 1}`}
            summary={c.summary}
          />
          {c.note && <p className="muted small report-chart-note">{c.note}</p>}
        </div>
      ))}
    </div>
  );
}
