import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { logsQueryOf } from '../../alerts/logs-query.js';
import { webhookBody } from '../../alerts/notifier.js';
import type { Evaluation } from '../../alerts/types.js';
import { SqliteEventLog } from '../../stream/sqlite-log.js';
import { eventually } from '../../testing/server-process.js';
import type { LogRecord } from '../log-record.js';
import { addTo, bucketOf, type Histogram, merge, quantile } from './latency-histogram.js';
import { LogMetrics } from './log-metrics.js';
import { loginOf } from './login-events.js';
import { logMetrics } from './metrics-query.js';
import { BoundedNames, pathGroup } from './path-group.js';

const MIN = 60_000;

function rec(o: Partial<LogRecord> & { log_time: number }): LogRecord {
  return {
    log_id: `${o.log_time}-${Math.random()}`,
    received_at: o.log_time,
    site_id: 'shop',
    source: 'test',
    host: 'web-1',
    ip: '192.0.2.1',
    method: 'GET',
    path: '/',
    query: null,
    protocol: 'HTTP/1.1',
    status: 200,
    bytes: 100,
    referrer: null,
    user_agent: null,
    browser: null,
    os: null,
    device_type: null,
    is_bot: false,
    response_time_ms: null,
    level: null,
    message: null,
    product_id: null,
    category_id: null,
    fields: null,
    raw: '',
    parse_error: null,
    ...o,
  };
}

describe('path groups', () => {
  it('collapse ids and keep the first two segments', () => {
    assert.equal(pathGroup('/products/12345/reviews?page=2'), '/products/:id');
    assert.equal(pathGroup('/orders/3f2a9c1e-8b7d-4c6e-9f00-1234567890ab'), '/orders/:id');
    assert.equal(pathGroup('/cart/deadbeefcafe'), '/cart/:id');
    assert.equal(pathGroup('/u/a1b2c3d4e5'), '/u/:id');
    assert.equal(pathGroup('/Account/Login'), '/account/login');
    assert.equal(pathGroup('/'), '/');
    assert.equal(pathGroup(null), '(none)');
  });
  it('are bounded per site: later names become other', () => {
    const names = new BoundedNames(2);
    assert.deepEqual(
      ['/a', '/b', '/c', '/a'].map((n) => names.name('s', n)),
      ['/a', '/b', 'other', '/a'],
    );
    assert.equal(names.name('t', '/c'), '/c');
  });
});

describe('latency histogram', () => {
  it('gives percentiles within a bucket of the exact value, merged across parts', () => {
    const values = Array.from({ length: 5000 }, (_, i) => 1 + ((i * 7919) % 3000) / 3);
    const parts: Histogram[] = [{}, {}, {}];
    values.forEach((v, i) => {
      addTo(parts[i % 3], v);
    });
    const all = parts.reduce((a, h) => merge(a, h), {} as Histogram);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.5, 0.95, 0.99]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1];
      const got = quantile(all, q) as number;
      assert.ok(Math.abs(got - exact) / exact < 0.1, `q${q}: ${got} vs ${exact}`);
    }
    assert.equal(quantile({}, 0.5), null);
    assert.equal(bucketOf(0), 0);
    assert.ok(bucketOf(1e9) > bucketOf(1e4));
  });
});

describe('logins in logs', () => {
  const pattern = /\/(login|signin|auth)(\/|$)/i;
  it('reads app events and rejected POSTs to login paths', () => {
    const app = rec({
      log_time: 0,
      status: null,
      method: null,
      path: null,
      fields: '{"event":"login_failed","user":"bob"}',
    });
    assert.deepEqual(loginOf(app, pattern), { failed: true, keys: ['user:bob', 'ip:192.0.2.1'] });
    assert.deepEqual(
      loginOf(rec({ log_time: 0, method: 'POST', path: '/auth/login', status: 401 }), pattern),
      {
        failed: true,
        keys: ['ip:192.0.2.1'],
      },
    );
    assert.deepEqual(loginOf(rec({ log_time: 0, method: 'POST', path: '/login', status: 302 }), pattern), {
      failed: false,
      keys: [],
    });
    assert.equal(loginOf(rec({ log_time: 0, method: 'GET', path: '/login', status: 401 }), pattern), null);
    assert.equal(
      loginOf(rec({ log_time: 0, method: 'POST', path: '/loginhelp', status: 401 }), pattern),
      null,
    );
  });
});

describe('logs queries of alerts', () => {
  const signal = (labels: Record<string, string>, evidence?: Record<string, unknown>) => ({
    labels: { site: 's', ...labels },
    severity: 'warning' as const,
    summary: '',
    at: 0,
    evidence,
  });
  it('name the lines behind 5xx, failed-login, flood and bot alerts', () => {
    assert.equal(logsQueryOf(signal({ alertname: 'http_5xx' })), 'status:[500 TO 599]');
    assert.equal(
      logsQueryOf(signal({ alertname: 'http_5xx' }, { host: 'web-2' })),
      'status:[500 TO 599] AND host:web-2',
    );
    assert.equal(
      logsQueryOf(signal({ alertname: 'failed_logins', key: 'ip:203.0.113.7' })),
      'ip:203.0.113.7',
    );
    assert.equal(logsQueryOf(signal({ alertname: 'failed_logins', key: 'user:a "b"' })), '"a \\"b\\""');
    assert.equal(
      logsQueryOf(signal({ alertname: 'request_flood', network: '45.95.147.0/24' })),
      'ip:45.95.147.*',
    );
    assert.equal(logsQueryOf(signal({ alertname: 'bot_wave' })), 'is_bot:true');
    assert.equal(logsQueryOf(signal({ alertname: 'order_rate_anomaly' })), null);
  });
  it('go into notifications as a Logs page link', () => {
    const since = Date.UTC(2026, 11, 6, 20, 0);
    const alert = {
      fingerprint: 'f',
      rule: 'log_errors',
      site: 'shop',
      labels: { alertname: 'http_5xx', site: 'shop' },
      severity: 'critical' as const,
      state: 'firing' as const,
      summary: 'http error rate 40%',
      since,
      firingSince: since,
      resolvedAt: null,
      lastSeen: since,
      evidence: { logsQuery: 'status:[500 TO 599]' },
    };
    const body = webhookBody([{ kind: 'firing', alert, key: 'k' }], 'https://pulse.shop.example/');
    const url = new URL(body.alerts[0].logsUrl as string);
    assert.equal(url.origin + url.pathname, 'https://pulse.shop.example/logs');
    assert.equal(url.searchParams.get('q'), 'status:[500 TO 599]');
    assert.equal(url.searchParams.get('from'), String(since - 5 * MIN));
    assert.equal(webhookBody([{ kind: 'firing', alert, key: 'k' }]).alerts[0].logsUrl, null);
  });
});

describe('log metrics consumer', () => {
  it('counts old lines (a replay, an import) without judging them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-metrics-'));
    const log = new SqliteEventLog({ dir: join(dir, 'stream') });
    const evaluations: Evaluation[] = [];
    const metrics = new LogMetrics({
      log,
      dataDir: dir,
      idleAdvanceMs: 0,
      allowedLatenessMs: 0,
      onEvaluation: (e) => evaluations.push(e),
    });
    try {
      const t0 = Date.now() - 2 * 86_400_000;
      const records = [
        ...Array.from({ length: 30 }, (_, i) =>
          rec({
            log_time: t0 + 58 * MIN + i * 1000,
            method: 'POST',
            path: '/login',
            status: 401,
            ip: '203.0.113.7',
          }),
        ),
        ...Array.from({ length: 40 }, (_, i) => rec({ log_time: t0 + 60 * MIN + i * 1000, status: 500 })),
        rec({ log_time: t0 + 70 * MIN }), // log time passes the minutes above
      ];
      await log.append(
        'logs',
        records.map((r) => ({ value: JSON.stringify(r), timestamp: Date.now() })),
      );
      await metrics.start();
      await eventually(async () => metrics.status().position === records.length);
      const day = logMetrics(metrics.store, {
        site: 'shop',
        from: t0,
        to: t0 + 2 * 60 * MIN,
        step: 2 * 60 * MIN,
      });
      assert.equal(day.total[0].loginFailures, 30);
      assert.equal(day.total[0].s5xx, 40);
      assert.deepEqual(
        evaluations.flatMap((e) => e.signals),
        [],
      );
      await metrics.stop();
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts each record once across redelivery and restart, and fires on a guessing IP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-metrics-'));
    const log = new SqliteEventLog({ dir: join(dir, 'stream') });
    const evaluations: Evaluation[] = [];
    const make = () =>
      new LogMetrics({
        log,
        dataDir: dir,
        idleAdvanceMs: 0,
        allowedLatenessMs: 0,
        onEvaluation: (e) => evaluations.push(e),
      });
    try {
      const t0 = Math.floor(Date.now() / MIN) * MIN - 30 * MIN;
      const records: LogRecord[] = [];
      for (let m = 0; m < 20; m++)
        for (let i = 0; i < 10; i++)
          records.push(
            rec({
              log_time: t0 + m * MIN + i * 1000,
              status: i === 0 ? 503 : i === 1 ? 404 : 200,
              path: `/products/${m * 10 + i}`,
              response_time_ms: 10 * (i + 1),
            }),
          );
      for (let i = 0; i < 12; i++)
        records.push(
          rec({
            log_time: t0 + 20 * MIN + i * 1000,
            method: 'POST',
            path: '/login',
            status: 401,
            ip: '203.0.113.7',
          }),
        );
      records.push(rec({ log_time: t0 + 22 * MIN }));
      await log.append(
        'logs',
        records.map((r) => ({ value: JSON.stringify(r), timestamp: r.log_time })),
      );
      const total = () =>
        logMetrics(first.store, { site: 'shop', from: t0, to: t0 + 25 * MIN, step: 25 * MIN }).total[0];

      const first = make();
      await first.start();
      await eventually(async () => first.status().position === records.length);
      const before = total();
      assert.equal(before.requests, records.length);
      assert.equal(before.s5xx, 20);
      assert.equal(before.s4xx, 20 + 12);
      assert.equal(before.loginFailures, 12);
      // 50 ms exactly, reported as the middle of its bucket.
      assert.ok(Math.abs((before.p50 as number) - 50) / 50 < 0.1, `p50 ${before.p50}`);
      const fired = evaluations.flatMap((e) => e.signals);
      assert.deepEqual(
        fired.map((s) => s.labels.key ?? s.labels.alertname).filter((k, i, a) => a.indexOf(k) === i),
        ['ip:203.0.113.7'],
      );
      assert.equal(fired[0].evidence?.logsQuery, 'ip:203.0.113.7');
      await first.stop();

      // As if the group's commit had been lost in a crash: the records come again.
      await log.seek('logs', 'log-metrics', { position: 1 });
      const second = make();
      await second.start();
      await new Promise((r) => setTimeout(r, 500));
      const after = logMetrics(second.store, { site: 'shop', from: t0, to: t0 + 25 * MIN, step: 25 * MIN })
        .total[0];
      assert.deepEqual(after, before);
      await second.stop();
    } finally {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
