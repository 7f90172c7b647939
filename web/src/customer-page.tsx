import { type FormEvent, useEffect, useState } from 'react';
import { Unauthorized } from './api';
import './customer-page.css';
import { fmtInt, fmtMoney } from './format';
import { type Activity, type CustomerSummary, type Order, type OrderStatus, ordersApi } from './orders-api';
import { queryParam, setQueryParam } from './router';
import { Card, Counter } from './widgets';

const STATUS_TEXT: Record<OrderStatus, string> = {
  purchased: 'Purchased',
  partially_refunded: 'Partially refunded',
  refunded: 'Refunded',
};

const fmtDate = (t: number) =>
  new Date(t).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
const money = (n: number | null, currency: string | null) =>
  n === null ? '—' : `${fmtMoney(n)}${currency ? ` ${currency}` : ''}`;

interface Loaded {
  user: string;
  summary: CustomerSummary | null;
  orders: Order[];
  cursor: string | null;
}

/**
 * A customer's orders and recent activity, looked up by user id (or visitor id for anonymous
 * buyers). Everything shown is the customer's own data, rendered as text.
 */
export function CustomerPage(props: { site: string; onUnauthorized: () => void }) {
  const { site, onUnauthorized } = props;
  const [input, setInput] = useState(() => queryParam('user') ?? '');
  const [user, setUser] = useState(() => queryParam('user') ?? '');
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!user) {
      setLoaded(null);
      return;
    }
    let stale = false;
    setBusy(true);
    setError(null);
    Promise.all([ordersApi.customer(site, user), ordersApi.orders(site, user)])
      .then(([summary, page]) => {
        if (!stale) setLoaded({ user, summary, orders: page.orders, cursor: page.nextCursor });
      })
      .catch((err) => {
        if (err instanceof Unauthorized) onUnauthorized();
        else if (!stale) setError(String(err.message ?? err));
      })
      .finally(() => !stale && setBusy(false));
    return () => {
      stale = true;
    };
  }, [site, user, onUnauthorized]);

  const search = (e: FormEvent) => {
    e.preventDefault();
    const id = input.trim();
    setUser(id);
    setQueryParam('user', id);
  };

  const more = async () => {
    if (!loaded?.cursor) return;
    setBusy(true);
    try {
      const page = await ordersApi.orders(site, loaded.user, loaded.cursor);
      setLoaded({ ...loaded, orders: [...loaded.orders, ...page.orders], cursor: page.nextCursor });
    } catch (err) {
      if (err instanceof Unauthorized) onUnauthorized();
      else setError(String((err as Error).message ?? err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="page customers" data-testid="customer-page">
      <form className="customer-search card" onSubmit={search}>
        <label htmlFor="customer-id">User or visitor id</label>
        <div className="customer-search-row">
          <input
            id="customer-id"
            value={input}
            onChange={(e) => setInput(e.target.value)}
            placeholder="e.g. 541312140"
            autoComplete="off"
            spellCheck={false}
            maxLength={256}
            data-testid="customer-search"
          />
          <button type="submit" disabled={busy || input.trim() === ''}>
            Search
          </button>
        </div>
        <p className="muted small">
          Anonymous purchases are filed under the visitor id. Imported history appears after{' '}
          <code>storepulse orders rebuild</code>.
        </p>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {busy && !loaded && <p className="muted">Loading…</p>}
      {loaded && <CustomerView loaded={loaded} busy={busy} onMore={more} />}
    </main>
  );
}

function CustomerView({ loaded, busy, onMore }: { loaded: Loaded; busy: boolean; onMore: () => void }) {
  const { summary: s, orders } = loaded;
  if (!s && orders.length === 0)
    return (
      <p className="muted" data-testid="customer-none">
        No user or visitor “{loaded.user}” on this site.
      </p>
    );
  return (
    <>
      <h1 className="customer-title">
        <span className="muted">{s?.kind === 'visitor' ? 'Visitor' : 'User'}</span>{' '}
        <span data-testid="customer-id">{loaded.user}</span>
      </h1>
      {s && (
        <div className="counters">
          <Counter label="Orders" value={fmtInt(s.orders)} testId="customer-orders" />
          <Counter label="Spent" value={money(s.spent, s.currency)} testId="customer-spent" />
          <Counter
            label="Refunded"
            value={money(s.refunded, s.currency)}
            testId="customer-refunded"
            tone={s.refunded > 0 ? 'warn' : undefined}
          />
          <Counter label="Net" value={money(s.net, s.currency)} testId="customer-net" />
          <Counter label="First seen" value={fmtDate(s.firstSeen)} testId="customer-first" />
          <Counter label="Last seen" value={fmtDate(s.lastSeen)} testId="customer-last" />
        </div>
      )}
      <div className="customer-grid">
        <Card title="Orders" testId="customer-order-list">
          {orders.length === 0 ? (
            <p className="muted small">No orders.</p>
          ) : (
            <ol className="orders">
              {orders.map((o) => (
                <OrderItem key={o.orderId} order={o} />
              ))}
            </ol>
          )}
          {loaded.cursor && (
            <button
              type="button"
              className="ghost"
              onClick={onMore}
              disabled={busy}
              data-testid="orders-more"
            >
              Load older orders
            </button>
          )}
        </Card>
        <Card title="Recent activity" testId="customer-activity">
          {s && s.activity.length > 0 ? (
            <ol className="timeline">
              {s.activity.map((a) => (
                <ActivityItem key={a.eventId} a={a} />
              ))}
            </ol>
          ) : (
            <p className="muted small">No recent activity kept.</p>
          )}
        </Card>
      </div>
    </>
  );
}

function OrderItem({ order: o }: { order: Order }) {
  return (
    <li className="order" data-testid="order" data-order-id={o.orderId} data-status={o.status}>
      <div className="order-head">
        <span className="order-id" title={o.orderId}>
          {o.orderId}
        </span>
        <span className={`pill status-${o.status}`}>{STATUS_TEXT[o.status]}</span>
        <span className="muted small">{fmtDate(o.time)}</span>
        <span className="order-total">
          {money(o.total, o.currency)}
          {o.refunded > 0 && <span className="muted small"> · −{fmtMoney(o.refunded)} refunded</span>}
        </span>
      </div>
      <div className="table-scroll">
        <table className="order-lines">
          <thead>
            <tr>
              <th>Product</th>
              <th>Brand</th>
              <th className="num">Qty</th>
              <th className="num">Price</th>
              <th className="num">Amount</th>
            </tr>
          </thead>
          <tbody>
            {o.lines.map((l) => (
              <tr key={l.eventId} className={l.kind === 'refund' ? 'refund-line' : undefined}>
                <td className="clip" title={l.categoryCode ?? undefined}>
                  {l.kind === 'refund' ? 'Refund: ' : ''}
                  {l.productId ?? (l.kind === 'refund' ? 'whole order' : '—')}
                </td>
                <td className="clip">{l.brand ?? '—'}</td>
                <td className="num">{l.quantity ?? '—'}</td>
                <td className="num">{fmtMoney(l.price)}</td>
                <td className="num">{l.kind === 'refund' ? `−${fmtMoney(l.amount)}` : fmtMoney(l.amount)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </li>
  );
}

function ActivityItem({ a }: { a: Activity }) {
  const what = a.productId ?? a.path ?? a.name ?? '';
  const amount = a.revenue ?? (a.type === 'purchase' ? a.price : null);
  return (
    <li data-testid="activity-item">
      <time className="muted small" dateTime={new Date(a.time).toISOString()}>
        {fmtDate(a.time)}
      </time>
      <span className={`pill t-${a.type}`}>{a.name && a.type === 'custom' ? a.name : a.type}</span>
      <span className="activity-what">{what}</span>
      {a.orderId && <span className="muted small">order {a.orderId}</span>}
      {amount !== null && <span className="activity-amount">{fmtMoney(amount)}</span>}
    </li>
  );
}
