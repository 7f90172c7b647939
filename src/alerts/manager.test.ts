import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AlertManager, type Notification } from './manager.js';
import { openAlertDb } from './store.js';
import type { Evaluation, Signal } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'storepulse-alerts-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (
  o: ConstructorParameters<typeof AlertManager>[0] extends infer O ? Partial<O> : never = {},
) => {
  const db = openAlertDb(join(dir, `a${n++}.sqlite`));
  return { db, m: new AlertManager({ db, ...o }) };
};
const MIN = 60_000;
const T0 = Date.parse('2026-12-02T10:00:00Z');

const drop = (at: number, extra: Partial<Signal> = {}): Signal => ({
  labels: { alertname: 'order_rate_anomaly', metric: 'orders' },
  severity: 'critical',
  summary: 'orders 12/10 min, expected 40 (30–50)',
  at,
  value: 12,
  band: { expected: 40, lower: 30, upper: 50 },
  ...extra,
});
const ev = (rule: string, at: number, signals: Signal[], site = 'shop'): Evaluation => ({
  rule,
  site,
  at,
  signals,
});
const outbox = (db: ReturnType<typeof openAlertDb>) =>
  (db.prepare('SELECT payload FROM outbox ORDER BY id').all() as { payload: string }[]).map(
    (r) => JSON.parse(r.payload) as Notification,
  );

describe('alert lifecycle', () => {
  it('pending → firing after the rule’s pending time → resolved, each transition in history, one notification each', () => {
    const { db, m } = fresh({ pendingMs: { orders: 2 * MIN } });
    m.process(ev('orders', T0, [drop(T0)]), T0);
    assert.equal(m.alerts()[0].state, 'pending');
    assert.equal(outbox(db).length, 0, 'pending alerts are not notified');
    m.process(ev('orders', T0 + MIN, [drop(T0 + MIN)]), T0 + MIN);
    m.process(ev('orders', T0 + 2 * MIN, [drop(T0 + 2 * MIN)]), T0 + 2 * MIN);
    const [a] = m.alerts();
    assert.equal(a.state, 'firing');
    assert.equal(a.firingSince, T0 + 2 * MIN);
    assert.deepEqual(a.band, { expected: 40, lower: 30, upper: 50 });
    // The same condition again: de-duplicated into the same alert, no second notification.
    m.process(ev('orders', T0 + 3 * MIN, [drop(T0 + 3 * MIN)]), T0 + 3 * MIN);
    assert.equal(m.alerts().length, 1);
    assert.deepEqual(
      outbox(db).map((x) => x.kind),
      ['firing'],
    );
    // The detector no longer reports it: resolved and notified as such.
    m.process(ev('orders', T0 + 4 * MIN, []), T0 + 4 * MIN);
    assert.equal(m.alerts()[0].state, 'resolved');
    assert.deepEqual(
      outbox(db).map((x) => x.kind),
      ['firing', 'resolved'],
    );
    assert.deepEqual(
      m
        .history({ site: 'shop' })
        .map((h) => (h as { state: string }).state)
        .reverse(),
      ['pending', 'firing', 'resolved'],
    );
  });

  it('a pending alert that goes away resolves without any notification', () => {
    const { db, m } = fresh({ pendingMs: { orders: 5 * MIN } });
    m.process(ev('orders', T0, [drop(T0)]), T0);
    m.process(ev('orders', T0 + MIN, []), T0 + MIN);
    assert.equal(outbox(db).length, 0);
  });

  it('repeats a firing alert after the repeat interval unless acknowledged', () => {
    const { db, m } = fresh({ repeatIntervalMs: 30 * MIN });
    m.process(ev('orders', T0, [drop(T0)]), T0);
    m.tick(T0 + 29 * MIN);
    assert.equal(outbox(db).length, 1);
    m.tick(T0 + 30 * MIN);
    assert.equal(outbox(db).length, 2, 'repeated');
    m.acknowledge(m.alerts()[0].fingerprint, 'ana@example.com');
    m.tick(T0 + 90 * MIN);
    assert.equal(outbox(db).length, 2, 'acknowledged: no more repeats');
    assert.equal(m.alerts()[0].acknowledgedBy, 'ana@example.com');
  });

  it('different labels are different alerts (one per IP), resolved one by one', () => {
    const { m } = fresh();
    const flood = (ip: string, at: number): Signal => ({
      labels: { alertname: 'request_flood', ip },
      severity: 'warning',
      summary: `flood from ${ip}`,
      at,
    });
    m.process(ev('flood', T0, [flood('45.95.147.3', T0), flood('45.95.147.9', T0)]), T0);
    assert.equal(m.alerts({ state: 'firing' }).length, 2);
    m.process(ev('flood', T0 + MIN, [flood('45.95.147.9', T0 + MIN)]), T0 + MIN);
    assert.deepEqual(
      m.alerts({ state: 'firing' }).map((a) => a.labels.ip),
      ['45.95.147.9'],
    );
  });
});

describe('muting', () => {
  it('a silence mutes matching alerts until it ends; then the alert is notified', () => {
    const { db, m } = fresh();
    m.addSilence(
      {
        kind: 'silence',
        matchers: { alertname: 'order_rate_anomaly', site: 'shop' },
        startsAt: T0,
        endsAt: T0 + 10 * MIN,
        author: 'ana',
        comment: 'known',
      },
      T0,
    );
    m.process(ev('orders', T0 + MIN, [drop(T0 + MIN)]), T0 + MIN);
    assert.match(m.alerts({}, T0 + MIN)[0].mutedBy ?? '', /^silence:/);
    assert.equal(outbox(db).length, 0);
    m.tick(T0 + 10 * MIN);
    assert.deepEqual(
      outbox(db).map((x) => x.kind),
      ['firing'],
    );
  });

  it('a maintenance window (planned sale) mutes the spike alerts of its site only', () => {
    const { db, m } = fresh();
    m.addSilence(
      {
        kind: 'maintenance',
        matchers: { site: 'shop', alertname: '~order_rate_.*' },
        startsAt: T0,
        endsAt: T0 + 60 * MIN,
        author: 'ana',
        comment: 'Black Friday sale',
      },
      T0,
    );
    m.process(ev('orders', T0 + MIN, [drop(T0 + MIN)], 'shop'), T0 + MIN);
    m.process(ev('orders', T0 + MIN, [drop(T0 + MIN)], 'other'), T0 + MIN);
    assert.deepEqual(
      outbox(db).map((x) => x.alert.site),
      ['other'],
    );
  });

  it('checkout errors inhibit the order-rate alert they explain, on the same site', () => {
    const { db, m } = fresh();
    m.process(
      ev('errors', T0, [
        {
          labels: { alertname: 'checkout_errors' },
          severity: 'critical',
          summary: 'checkout errors 40%',
          at: T0,
        },
      ]),
      T0,
    );
    m.process(ev('orders', T0, [drop(T0)]), T0);
    const orders = m.alerts({}, T0).find((a) => a.rule === 'orders')!;
    assert.equal(orders.mutedBy, 'inhibited:checkout_errors');
    assert.deepEqual(
      outbox(db).map((x) => x.alert.rule),
      ['errors'],
    );
  });
});

describe('restart safety', () => {
  it('state and silences survive reopening the database; nothing is queued twice', () => {
    const path = join(dir, 'restart.sqlite');
    let db = openAlertDb(path);
    let m = new AlertManager({ db });
    m.process(ev('orders', T0, [drop(T0)]), T0);
    m.addSilence(
      {
        kind: 'silence',
        matchers: { site: 'other' },
        startsAt: T0,
        endsAt: T0 + 60 * MIN,
        author: 'a',
        comment: '',
      },
      T0,
    );
    db.close();
    db = openAlertDb(path);
    m = new AlertManager({ db });
    m.process(ev('orders', T0 + MIN, [drop(T0 + MIN)]), T0 + MIN);
    m.tick(T0 + 2 * MIN);
    assert.equal(outbox(db).length, 1, 'the firing notification was not queued again');
    assert.equal(m.silences(T0 + 5 * MIN).length, 1);
    assert.equal(m.alerts()[0].state, 'firing');
  });
});
