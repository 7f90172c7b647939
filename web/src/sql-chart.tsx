import { PieChart } from 'echarts/charts';
import type { EChartsCoreOption } from 'echarts/core';
import { use } from 'echarts/core';
import { baseOption, Chart, chartColors, timeAxis, valueAxis } from './chart';
import type { QueryColumn } from './sql-api';

// The shared wrapper registers line and bar; the console also draws pies.
use([PieChart]);

export type ChartKind = 'line' | 'bar' | 'pie';

const NUMERIC =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/;
const TEMPORAL = /^(DATE|TIMESTAMP.*|TIME)$/;
/** Bars and slices past this many are unreadable; the chart says it shows the first ones. */
const MAX_CATEGORIES = 50;
const MAX_SLICES = 12;

export const isNumeric = (c: QueryColumn) => NUMERIC.test(c.type);

/** Which charts suit a result: x is the first column, y every other numeric column. */
export function chartKinds(columns: QueryColumn[], rows: number): ChartKind[] {
  const [x, ...rest] = columns;
  if (!x || rest.filter(isNumeric).length === 0 || rows === 0) return [];
  if (TEMPORAL.test(x.type)) return ['line', 'bar'];
  const kinds: ChartKind[] = ['bar', 'line'];
  if (rest.filter(isNumeric).length === 1 && rows <= MAX_SLICES) kinds.unshift('pie');
  return kinds;
}

/** DuckDB sends lake timestamps (UTC) as text without a zone. */
function timeOf(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return null;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(v)
    ? `${v}T00:00:00Z`
    : `${v.replace(' ', 'T')}${/[zZ]|[+-]\d\d(:?\d\d)?$/.test(v) ? '' : 'Z'}`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

const num = (v: unknown) => (v === null || v === undefined || v === '' ? null : Number(v));
const label = (v: unknown) =>
  v === null || v === undefined ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v);

export function chartOption(
  kind: ChartKind,
  columns: QueryColumn[],
  rows: Record<string, unknown>[],
): EChartsCoreOption {
  const [x, ...rest] = columns;
  const ys = rest.filter(isNumeric);
  const base = baseOption();
  if (kind === 'pie') {
    const y = ys[0];
    return {
      ...base,
      tooltip: { trigger: 'item' },
      series: [
        {
          type: 'pie',
          radius: ['35%', '65%'],
          top: 24,
          label: { color: chartColors().fg },
          data: rows.slice(0, MAX_SLICES).map((r) => ({ name: label(r[x.name]), value: num(r[y.name]) })),
        },
      ],
    };
  }
  if (TEMPORAL.test(x.type)) {
    const sorted = rows
      .map((r) => [timeOf(r[x.name]), r] as const)
      .filter(([t]) => t !== null)
      .sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0));
    return {
      ...base,
      xAxis: timeAxis(),
      yAxis: { ...valueAxis(), minInterval: undefined },
      series: ys.map((y) => ({
        name: y.name,
        type: kind,
        showSymbol: sorted.length < 60,
        data: sorted.map(([t, r]) => [t, num(r[y.name])]),
      })),
    };
  }
  const shown = rows.slice(0, MAX_CATEGORIES);
  const c = chartColors();
  return {
    ...base,
    xAxis: {
      type: 'category',
      data: shown.map((r) => label(r[x.name])),
      axisLabel: { color: c.muted, hideOverlap: true },
      axisLine: { lineStyle: { color: c.grid } },
    },
    yAxis: { ...valueAxis(), minInterval: undefined },
    series: ys.map((y) => ({ name: y.name, type: kind, data: shown.map((r) => num(r[y.name])) })),
  };
}

export function ResultChart(props: {
  kind: ChartKind;
  columns: QueryColumn[];
  rows: Record<string, unknown>[];
  theme: string;
}) {
  const { kind, columns, rows } = props;
  const limit =
    kind === 'pie' ? MAX_SLICES : TEMPORAL.test(columns[0]?.type ?? '') ? Infinity : MAX_CATEGORIES;
  const shown = Math.min(rows.length, limit);
  return (
    <div>
      <Chart
        option={chartOption(kind, columns, rows)}
        theme={props.theme}
        label={`${kind} chart of ${columns
          .filter(isNumeric)
          .map((c) => c.name)
          .join(', ')} by ${columns[0]?.name}`}
        testId="sql-chart"
        summary={`${kind}: ${shown} points`}
      />
      {shown < rows.length && (
        <p className="muted small">
          Showing the first {shown} of {rows.length} rows; aggregate further to see all.
        </p>
      )}
    </div>
  );
}
