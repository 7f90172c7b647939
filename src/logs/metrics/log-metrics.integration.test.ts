import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually, type ServerProcess, startServer } from '../../testing/server-process.js';

interface AlertJson {
  fingerprint: string;
  rule: string;
  state: string;
  labels: Record<string, string>;
  summary: string;
  evidence?: Record<string, unknown>;
}

/**
 * Log metrics on a real server: JSON log lines sent over `POST /api/v1/logs/lines` become
 * per-minute metrics (counts per status class, latency percentiles merged across minutes), and
 * the 5xx and failed-login rules run on them — normal traffic with its usual 404s and a few
 * mistyped passwords raises nothing; a burst of 5xx on one host and a password-guessing IP
 * (and an account named in application logs) each fire an alert that links to their log lines.
 */
describe('log metrics and log alerts', () => {
  let server: ServerProcess;
  const MIN = 60_000;
  const T = Math.floor(Date.now() / MIN) * MIN;
  const sentTimes: number[] = [];
  let sentRequests = 0;
  let sent5xx = 0;
  let sent4xx = 0;

  const send = async (lines: object[]) => {
    const res = await fetch(`${server.url}/api/v1/logs/lines?source=app`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.writeKey}`, 'content-type': 'text/plain' },
      body: lines.map((l) => JSON.stringify(l)).join('\n'),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { accepted: number; unparsed: number };
    assert.equal(body.accepted, lines.length);
    assert.equal(body.unparsed, 0);
  };
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${server.url}${path}`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
    });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as T;
  };
  const alerts = async () => (await api<{ alerts: AlertJson[] }>('/api/v1/alerts?site=default')).alerts;

  /** A request line; response times are known so percentiles can be checked. */
  const request = (
    t: number,
    o: { ip: string; path: string; status: number; host?: string; method?: string },
  ) => {
    const ms = 5 + ((sentTimes.length * 37) % 200);
    sentTimes.push(ms);
    sentRequests++;
    if (o.status >= 500) sent5xx++;
    else if (o.status >= 400) sent4xx++;
    return {
      time: new Date(t).toISOString(),
      ip: o.ip,
      host: o.host ?? 'web-1',
      method: o.method ?? 'GET',
      path: o.path,
      status: o.status,
      bytes: 1000,
      response_time_ms: ms,
    };
  };

  before(async () => {
    server = await startServer({
      env: {
        STOREPULSE_INGEST__ANONYMIZE_IP: 'false',
        // Minutes close 2 s after their end (rather than a minute): the test waits less.
        STOREPULSE_REALTIME__ALLOWED_LATENESS_MS: '2000',
      },
    });
  });
  after(() => server?.cleanup());

  it('counts normal traffic per minute, host and path group without raising an alert', {
    timeout: 60_000,
  }, async () => {
    // 30 minutes of normal traffic, ending 5 minutes ago: 40 requests a minute on two hosts,
    // 1 in 20 a 404, one 500 every 10 minutes, and now and then a mistyped password.
    const lines: object[] = [];
    for (let m = 35; m >= 6; m--) {
      for (let i = 0; i < 40; i++) {
        const t = T - m * MIN + i * 1400;
        const ip = `192.0.2.${(i * 7 + m) % 250}`;
        const status = i === 13 ? 404 : i === 0 && m % 10 === 0 ? 500 : 200;
        lines.push(
          request(t, { ip, host: i % 2 ? 'web-1' : 'web-2', path: `/products/${1000 + i * m}`, status }),
        );
      }
      if (m % 4 === 0)
        lines.push(
          request(T - m * MIN + 500, { ip: `198.51.100.${m}`, path: '/login', method: 'POST', status: 401 }),
        );
      lines.push({
        time: new Date(T - m * MIN + 900).toISOString(),
        event: 'login',
        user: `user${m}`,
        ip: '192.0.2.1',
      });
    }
    await send(lines);

    const metrics = async () =>
      api<{
        step: number;
        total: {
          requests: number;
          s2xx: number;
          s4xx: number;
          s5xx: number;
          p95: number | null;
          bytes: number;
        }[];
        series: { key: string; requests: number }[];
      }>(`/api/v1/sites/default/logs/metrics?from=${T - 40 * MIN}&to=${T}&step=1h&by=path_group`);
    await eventually(
      async () => (await metrics()).total.reduce((n, p) => n + p.requests, 0) === sentRequests,
      20_000,
    );
    const m = await metrics();
    const sum = (k: 's2xx' | 's4xx' | 's5xx' | 'bytes') => m.total.reduce((n, p) => n + p[k], 0);
    assert.equal(sum('s5xx'), sent5xx);
    assert.equal(sum('s4xx'), sent4xx);
    assert.equal(sum('bytes'), sentRequests * 1000);
    // Product ids collapse into one group; login POSTs are their own; app lines have no path.
    assert.deepEqual(m.series.map((s) => s.key).sort(), ['(none)', '/login', '/products/:id']);
    // p95 over the whole range merges every minute's histogram: within a bucket (±10 %) of the exact value.
    const sorted = [...sentTimes].sort((a, b) => a - b);
    const exact = sorted[Math.ceil(0.95 * sorted.length) - 1];
    const p95s = m.total.filter((p) => p.p95 !== null).map((p) => p.p95 as number);
    assert.equal(m.step, 3_600_000);
    assert.ok(p95s.length >= 1);
    const overall = await api<{ total: { p95: number | null; requests: number }[] }>(
      `/api/v1/sites/default/logs/metrics?from=${T - 36 * MIN}&to=${T - 5 * MIN}&step=31m`,
    );
    assert.equal(overall.total.length, 1);
    assert.equal(overall.total[0].requests, sentRequests);
    const p95 = overall.total[0].p95 as number;
    assert.ok(Math.abs(p95 - exact) / exact < 0.1, `p95 ${p95} vs exact ${exact}`);

    // Per host, per minute.
    const byHost = await api<{ series: { key: string; requests: number; points: unknown[] }[] }>(
      `/api/v1/sites/default/logs/metrics?from=${T - 36 * MIN}&to=${T - 5 * MIN}&by=host&step=1m`,
    );
    assert.deepEqual(byHost.series.map((s) => [s.key, s.requests]).sort(), [
      ['(none)', 0],
      ['web-1', sentRequests - 30 * 20],
      ['web-2', 30 * 20],
    ]);
    assert.equal(byHost.series[0].points.length, 31);

    // Mistakes are 400s that say what to send; without credentials, 401.
    const raw = (path: string, auth = true) =>
      fetch(`${server.url}${path}`, auth ? { headers: { authorization: `Bearer ${server.apiKey}` } } : {});
    const bad = await raw('/api/v1/sites/default/logs/metrics?by=colour');
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /by must be host or path_group/);
    assert.equal((await raw('/api/v1/sites/default/logs/metrics?step=10s')).status, 400);
    assert.equal((await raw('/api/v1/sites/nosuch/logs/metrics')).status, 404);
    assert.equal((await raw('/api/v1/sites/default/logs/metrics', false)).status, 401);

    // The rules have run over these minutes (and, idle, up to now): nothing fired.
    await new Promise((r) => setTimeout(r, 8_000));
    assert.deepEqual(
      (await alerts()).map((a) => a.summary),
      [],
    );
  });

  it('fires a 5xx alert for one host and failed-login alerts for a guessing IP and an account', {
    timeout: 150_000,
  }, async () => {
    const now = Date.now();
    const lines: object[] = [];
    for (let i = 0; i < 150; i++)
      lines.push(
        request(now - 20_000 + i * 100, {
          ip: `192.0.2.${i % 200}`,
          host: i % 3 === 0 ? 'web-1' : 'web-2',
          path: '/checkout',
          status: i % 3 === 0 ? 200 : 502,
        }),
      );
    for (let i = 0; i < 12; i++)
      lines.push(
        request(now - 15_000 + i * 500, { ip: '203.0.113.7', path: '/login', method: 'POST', status: 401 }),
      );
    for (let i = 0; i < 11; i++)
      lines.push({
        time: new Date(now - 10_000 + i * 300).toISOString(),
        level: 'warn',
        event: 'login_failed',
        user: 'alice@example.com',
        ip: `198.51.100.${100 + i}`,
      });
    await send(lines);

    let firing: AlertJson[] = [];
    await eventually(
      async () => {
        firing = (await alerts()).filter((a) => a.state === 'firing');
        return firing.length >= 3;
      },
      120_000,
      1000,
    );
    const byName = (name: string, key?: string) =>
      firing.find((a) => a.labels.alertname === name && (key === undefined || a.labels.key === key));
    const http = byName('http_5xx');
    assert.ok(http, JSON.stringify(firing));
    assert.equal(http.rule, 'log_errors');
    assert.equal(http.labels.source, 'logs');
    assert.equal(http.evidence?.logsQuery, 'status:[500 TO 599] AND host:web-2');
    const ip = byName('failed_logins', 'ip:203.0.113.7');
    assert.ok(ip, JSON.stringify(firing));
    assert.equal(ip.evidence?.logsQuery, 'ip:203.0.113.7');
    const account = byName('failed_logins', 'user:alice@example.com');
    assert.ok(account, JSON.stringify(firing));
    assert.equal(account.evidence?.logsQuery, '"alice@example.com"');
    // Only these (and the failure rate of all logins): no normal client, no single mistyped password.
    assert.deepEqual(firing.map((a) => a.labels.key ?? a.labels.alertname).sort(), [
      'http_5xx',
      'ip:203.0.113.7',
      'login_errors',
      'user:alice@example.com',
    ]);

    // The chart next to it: 5xx per minute from the log metrics (100 sent in the burst).
    const chart = await api<{ points: { minute: number; value: number | null }[] }>(
      `/api/v1/sites/default/alert-series?metric=logs.errors.http&from=${now - 4 * MIN}&to=${now + MIN}`,
    );
    assert.equal(
      chart.points.reduce((n, p) => n + (p.value ?? 0), 0),
      100,
    );

    // The link's query finds the lines behind the alert on the Logs search API.
    const hits = await api<{ total: number }>(
      `/api/v1/logs/histogram?q=${encodeURIComponent(http.evidence?.logsQuery as string)}&from=${now - 60_000}`,
    );
    assert.equal(hits.total, 100);

    // kill -9 and a restart: the counts (saved with the stream position) neither lose nor double a line.
    const everything = `/api/v1/sites/default/logs/metrics?from=${T - 40 * MIN}&to=${now + 2 * MIN}&step=1h`;
    type Totals = { total: { requests: number; s5xx: number; loginFailures: number }[] };
    const sums = (m: Totals) =>
      m.total.reduce(
        (a, p) => ({
          requests: a.requests + p.requests,
          s5xx: a.s5xx + p.s5xx,
          logins: a.logins + p.loginFailures,
        }),
        { requests: 0, s5xx: 0, logins: 0 },
      );
    const before = sums(await api<Totals>(everything));
    assert.deepEqual(before, { requests: sentRequests, s5xx: sent5xx, logins: 12 + 11 + 7 });
    await server.kill9();
    await server.restart();
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(sums(await api<Totals>(everything)), before);
    assert.ok((await alerts()).some((a) => a.fingerprint === http.fingerprint && a.state === 'firing'));
  });
});
