import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { type EChartsCoreOption, type EChartsType, init, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';

// Only what the dashboard draws, so the bundle stays small.
use([LineChart, BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

/** Colours come from the page's CSS variables, so charts follow the light/dark theme. */
export function chartColors() {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return {
    fg: v('--fg'),
    muted: v('--muted'),
    grid: v('--border'),
    palette: [v('--c1'), v('--c2'), v('--c3'), v('--c4'), v('--c5'), v('--c6')],
  };
}

/** Axis, legend and tooltip settings every chart on the dashboard shares. */
export function baseOption(): EChartsCoreOption {
  const c = chartColors();
  return {
    color: c.palette,
    animation: false,
    textStyle: { color: c.fg },
    grid: { left: 8, right: 12, top: 32, bottom: 8, containLabel: true },
    legend: { top: 0, textStyle: { color: c.muted }, type: 'scroll' },
    tooltip: { trigger: 'axis' },
  };
}

export const timeAxis = () => {
  const c = chartColors();
  return {
    type: 'time',
    axisLine: { lineStyle: { color: c.grid } },
    axisLabel: { color: c.muted, hideOverlap: true },
    splitLine: { show: false },
  };
};
export const valueAxis = () => {
  const c = chartColors();
  return {
    type: 'value',
    minInterval: 1,
    axisLabel: { color: c.muted },
    splitLine: { lineStyle: { color: c.grid } },
  };
};

export interface ChartProps {
  option: EChartsCoreOption;
  /** Read by screen readers; the canvas itself says nothing. */
  label: string;
  theme: string;
  testId?: string;
  /** A short text of what is drawn (e.g. the total), so tests and tools can see the chart change. */
  summary?: string;
}

export function Chart(props: ChartProps) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsType | null>(null);

  // A new theme means new colours everywhere: start the chart again.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the theme is the reason to re-create the chart
  useEffect(() => {
    if (!el.current) return;
    const c = init(el.current, undefined, { renderer: 'canvas' });
    chart.current = c;
    const resize = new ResizeObserver(() => c.resize());
    resize.observe(el.current);
    return () => {
      resize.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, [props.theme]);

  useEffect(() => {
    chart.current?.setOption(props.option, { notMerge: true, lazyUpdate: true });
  });

  return (
    <div
      className="chart"
      ref={el}
      role="img"
      aria-label={props.label}
      data-testid={props.testId}
      data-summary={props.summary}
    />
  );
}
