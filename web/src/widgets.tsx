import type { ReactNode } from 'react';
import type { FeedItem, TopItem } from './api-types';
import { fmtInt, fmtMoney, fmtPct, fmtTime } from './format';

export function Counter(props: {
  label: string;
  value: string;
  hint?: string;
  testId: string;
  tone?: 'warn';
}) {
  return (
    <div className={`card counter ${props.tone ?? ''}`} data-testid={props.testId}>
      <div className="counter-label">{props.label}</div>
      <div className="counter-value" data-testid={`${props.testId}-value`}>
        {props.value}
      </div>
      {props.hint && <div className="counter-hint muted">{props.hint}</div>}
    </div>
  );
}

export function Card(props: { title: string; children: ReactNode; wide?: boolean; testId?: string }) {
  return (
    <section className={`card${props.wide ? ' wide' : ''}`} data-testid={props.testId}>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  );
}

/** A ranked list with bars; keys are user data and are rendered as text only. */
export function TopList(props: { items: TopItem[]; empty?: string; testId?: string }) {
  const max = Math.max(1, ...props.items.map((i) => i.count));
  if (props.items.length === 0) return <p className="muted small">{props.empty ?? 'Nothing yet.'}</p>;
  return (
    <ol className="toplist" data-testid={props.testId}>
      {props.items.map((item) => (
        <li key={item.key} title={item.error ? `may be over-counted by up to ${item.error}` : undefined}>
          <span className="bar" style={{ width: `${(item.count / max) * 100}%` }} />
          <span className="key">{item.key}</span>
          <span className="count">
            {item.error ? '≈' : ''}
            {fmtInt(item.count)}
          </span>
        </li>
      ))}
    </ol>
  );
}

export function TopListGroup(props: { lists: { title: string; items: TopItem[]; testId: string }[] }) {
  return (
    <div className="subgrid">
      {props.lists.map((l) => (
        <div key={l.title}>
          <h3>{l.title}</h3>
          <TopList items={l.items} testId={l.testId} />
        </div>
      ))}
    </div>
  );
}

/** Visitors at each step and the share that went on from the step before. */
export function Funnel(props: { funnel: { view: number; cart: number; purchase: number } }) {
  const steps = [
    { label: 'Viewed a product', n: props.funnel.view },
    { label: 'Added to cart', n: props.funnel.cart },
    { label: 'Purchased', n: props.funnel.purchase },
  ];
  const top = Math.max(1, steps[0].n);
  return (
    <ol className="funnel" data-testid="funnel">
      {steps.map((s, i) => (
        <li key={s.label}>
          <div className="funnel-head">
            <span>{s.label}</span>
            <strong>{fmtInt(s.n)}</strong>
          </div>
          <div className="funnel-track">
            <div className="funnel-bar" style={{ width: `${Math.min(100, (s.n / top) * 100)}%` }} />
          </div>
          {i > 0 && (
            <div className="muted small">
              {steps[i - 1].n > 0 ? `${fmtPct(Math.min(1, s.n / steps[i - 1].n))} of the step before` : '—'}
            </div>
          )}
        </li>
      ))}
    </ol>
  );
}

/** Newest events first; every field is shown as text (React escapes it), whatever a sender put in. */
export function RecentFeed(props: { items: FeedItem[] }) {
  if (props.items.length === 0) return <p className="muted small">No events yet.</p>;
  return (
    <div className="table-scroll">
      <table className="feed" data-testid="recent-feed">
        <thead>
          <tr>
            <th>Time</th>
            <th>Type</th>
            <th>Page / product</th>
            <th>Revenue</th>
            <th>Referrer</th>
            <th>Browser</th>
            <th>Flags</th>
          </tr>
        </thead>
        <tbody>
          {props.items.map((e) => (
            <tr key={e.event_id}>
              <td>{fmtTime(e.event_time)}</td>
              <td>
                <span className={`pill t-${e.event_type}`}>{e.event_name ?? e.event_type}</span>
              </td>
              <td className="clip">{[e.path, e.product_id, e.brand].filter(Boolean).join(' · ')}</td>
              <td>{e.revenue === null ? '' : fmtMoney(e.revenue)}</td>
              <td className="clip">{e.referrer_host ?? ''}</td>
              <td className="clip">{[e.browser, e.os, e.device_type].filter(Boolean).join(' / ')}</td>
              <td>
                {e.is_bot && <span className="pill warn">bot</span>}
                {e.late && <span className="pill warn">late</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
