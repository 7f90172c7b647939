import type { EChartsCoreOption } from 'echarts/core';
import { useMemo } from 'react';
import type { SeriesPoint, Snapshot } from './api-types';
import { baseOption, Chart, timeAxis, valueAxis } from './chart';
import { fmtClock, fmtInt, fmtMoney, fmtPct, fmtTime } from './format';
import type { RangeId } from './ranges';
import { type FeedStatus, useSnapshot } from './use-snapshot';
import { Card, Counter, Funnel, RecentFeed, TopList, TopListGroup } from './widgets';

const TYPE_ORDER = ['page_view', 'view', 'cart', 'remove_from_cart', 'purchase'];

function eventsByTypeOption(series: SeriesPoint[]): EChartsCoreOption {
  const types = [...new Set(series.flatMap((p) => Object.keys(p.byType)))].sort(
    (a, b) => (TYPE_ORDER.indexOf(a) + 1 || 99) - (TYPE_ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b),
  );
  return {
    ...baseOption(),
    xAxis: timeAxis(),
    yAxis: valueAxis(),
    series: types.map((t) => ({
      name: t,
      type: 'bar',
      stack: 'events',
      barMaxWidth: 14,
      data: series.map((p) => [p.start, p.byType[t] ?? 0]),
    })),
  };
}

function revenueOption(series: SeriesPoint[]): EChartsCoreOption {
  return {
    ...baseOption(),
    xAxis: timeAxis(),
    yAxis: [valueAxis(), { ...valueAxis(), splitLine: { show: false } }],
    series: [
      {
        name: 'Revenue',
        type: 'line',
        showSymbol: false,
        areaStyle: { opacity: 0.15 },
        data: series.map((p) => [p.start, p.revenue]),
      },
      {
        name: 'Orders',
        type: 'bar',
        yAxisIndex: 1,
        barMaxWidth: 10,
        data: series.map((p) => [p.start, p.orders]),
      },
    ],
  };
}

const STATUS_TEXT: Record<FeedStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  polling: 'Refreshing every 10 s',
  reconnecting: 'Reconnecting…',
  error: 'Cannot load; retrying',
};

export function LivePage(props: { site: string; range: RangeId; theme: string; onUnauthorized: () => void }) {
  const { snapshot, status, updatedAt } = useSnapshot(props.site, props.range, props.onUnauthorized);
  return (
    <main className="page" data-testid="live-page">
      <p className="status-line">
        <span className={`dot ${status}`} aria-hidden="true" />
        <span data-testid="feed-status">{STATUS_TEXT[status]}</span>
        {updatedAt && <span className="muted"> · updated {fmtTime(updatedAt)}</span>}
        {snapshot?.watermark && (
          <span className="muted"> · windows final up to {fmtClock(snapshot.watermark)}</span>
        )}
      </p>
      {snapshot ? <LiveContent snapshot={snapshot} theme={props.theme} /> : <p className="muted">Loading…</p>}
    </main>
  );
}

function LiveContent({ snapshot: s, theme }: { snapshot: Snapshot; theme: string }) {
  const { totals: t } = s;
  const unit = s.resolution === 'minute' ? 'min' : 'hour';
  const current = s.series.at(-1);
  const byTypeChart = useMemo(() => eventsByTypeOption(s.series), [s.series]);
  const revenueChart = useMemo(() => revenueOption(s.series), [s.series]);
  const rangeLabel = `${fmtClock(s.from, s.resolution === 'hour')} – ${fmtClock(s.to, s.resolution === 'hour')}`;

  return (
    <>
      <div className="counters">
        <Counter testId="counter-events" label="Events" value={fmtInt(t.events)} hint={rangeLabel} />
        <Counter
          testId="counter-rate"
          label={`Events / ${unit}`}
          value={fmtInt(current?.events ?? 0)}
          hint={`this ${unit === 'min' ? 'minute' : 'hour'}`}
        />
        <Counter
          testId="counter-visitors"
          label={s.live ? 'Active visitors' : 'Visitors'}
          value={fmtInt(s.live ? s.live.activeVisitors : t.visitors)}
          hint={s.live ? 'last 5 minutes' : 'unique, estimated'}
        />
        <Counter testId="counter-orders" label="Orders" value={fmtInt(t.orders)} />
        <Counter testId="counter-revenue" label="Revenue" value={fmtMoney(t.revenue)} />
        <Counter testId="counter-aov" label="Avg order value" value={fmtMoney(t.aov)} />
        <Counter
          testId="counter-bots"
          label="Bot share"
          value={fmtPct(t.bots.share)}
          hint={`${fmtInt(t.bots.events)} bot event${t.bots.events === 1 ? '' : 's'}, kept out of the figures`}
          tone={t.bots.share > 0.3 ? 'warn' : undefined}
        />
      </div>

      <div className="grid">
        <Card title={`Events per ${unit} by type`} wide>
          <Chart
            option={byTypeChart}
            theme={theme}
            label="Events by type over time"
            testId="chart-events"
            summary={String(s.series.reduce((n, p) => n + p.events, 0))}
          />
        </Card>
        <Card title={`Revenue and orders per ${unit}`} wide>
          <Chart
            option={revenueChart}
            theme={theme}
            label="Revenue and orders over time"
            testId="chart-revenue"
            summary={fmtMoney(t.revenue)}
          />
        </Card>
        <Card title="Funnel (visitors)">
          <Funnel funnel={t.funnel} />
        </Card>
        <Card title="Top pages">
          <TopList items={t.top.pages} testId="top-pages" />
        </Card>
        <Card title="Top products" testId="card-products">
          <TopList items={t.top.products} testId="top-products" />
        </Card>
        <Card title="Top categories">
          <TopList items={t.top.categories} testId="top-categories" />
        </Card>
        <Card title="Top brands">
          <TopList items={t.top.brands} testId="top-brands" />
        </Card>
        <Card title="Abnormal events" testId="abnormal">
          <dl className="facts">
            <dt>Bot-flagged</dt>
            <dd data-testid="abnormal-bots">{fmtInt(t.bots.events)}</dd>
            <dt>Quarantined</dt>
            <dd data-testid="abnormal-quarantined">{fmtInt(t.quarantined)}</dd>
            <dt>Late (after the watermark)</dt>
            <dd data-testid="abnormal-late">{fmtInt(t.late)}</dd>
            <dt>Unreadable stream records</dt>
            <dd>{fmtInt(t.invalid)}</dd>
          </dl>
          {Object.keys(t.bots.byType).length > 0 && (
            <p className="muted small">
              Bots by type:{' '}
              {Object.entries(t.bots.byType)
                .map(([k, n]) => `${k} ${fmtInt(n)}`)
                .join(', ')}
            </p>
          )}
        </Card>
        <Card title="User agents" wide>
          <TopListGroup
            lists={[
              { title: 'Browsers', items: t.top.browsers, testId: 'top-browsers' },
              { title: 'Operating systems', items: t.top.os, testId: 'top-os' },
              { title: 'Devices', items: t.top.devices, testId: 'top-devices' },
            ]}
          />
        </Card>
        <Card title="Traffic sources" wide>
          <TopListGroup
            lists={[
              { title: 'Referrers', items: t.top.referrers, testId: 'top-referrers' },
              { title: 'UTM sources', items: t.top.utmSources, testId: 'top-utm-sources' },
              { title: 'UTM campaigns', items: t.top.utmCampaigns, testId: 'top-utm-campaigns' },
            ]}
          />
        </Card>
        {s.live && (
          <Card title="Recent events" wide>
            <RecentFeed items={s.recent} />
          </Card>
        )}
      </div>
      {s.clamped && (
        <p className="muted small">The range was longer than the server keeps; showing its latest part.</p>
      )}
    </>
  );
}
