import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type AlertmanagerProcess, alertmanagerMissing, startAlertmanager } from '../testing/alertmanager.js';
import { CHROME_UA } from '../testing/ingest-context.js';
import { eventually, type ServerProcess, startServer } from '../testing/server-process.js';

interface Hooked {
  status: string;
  alerts: { status: string; idempotencyKey: string; labels: Record<string, string> }[];
}

/**
 * The whole path on a real server: a request flood from three addresses of one /24 is flagged,
 * the alert reaches a real Alertmanager and a webhook; after kill -9 the alert state and
 * silences are still there and no notification is sent twice.
 */
describe('alerts end to end', { skip: alertmanagerMissing() }, () => {
  let server: ServerProcess;
  let am: AlertmanagerProcess;
  let hook: Server;
  let hookUrl = '';
  const received: Hooked[] = [];

  before(async () => {
    am = await startAlertmanager();
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(JSON.parse(body) as Hooked);
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    server?.cleanup();
    hook?.close();
    await am?.stop();
  });

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${server.apiKey}`,
        'content-type': 'application/json',
        ...init.headers,
      },
    });

  it('flags a flood within a minute, notifies Alertmanager and a webhook once, and keeps state across kill -9', {
    timeout: 180_000,
  }, async () => {
    server = await startServer({ env: { STOREPULSE_NOTIFY__ALLOW_NETWORKS: '127.0.0.1/32' } });

    // SSRF: the metadata address is refused when the channel is created.
    const metadata = await api('/api/v1/alert-channels', {
      method: 'POST',
      body: JSON.stringify({
        name: 'x',
        type: 'webhook',
        target: 'http://169.254.169.254/latest/meta-data/',
      }),
    });
    assert.equal(metadata.status, 400);
    assert.match(((await metadata.json()) as { error: string }).error, /non-public address/);

    for (const channel of [
      { name: 'am', type: 'alertmanager', target: am.url, minSeverity: 'info' },
      { name: 'hook', type: 'webhook', target: hookUrl, minSeverity: 'info' },
    ]) {
      const res = await api('/api/v1/alert-channels', { method: 'POST', body: JSON.stringify(channel) });
      assert.equal(res.status, 201, await res.text());
    }
    const silence = await api('/api/v1/silences', {
      method: 'POST',
      body: JSON.stringify({
        matchers: { alertname: 'bot_wave' },
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        comment: 'crawler test in progress',
      }),
    });
    assert.equal(silence.status, 201);

    // 3 addresses in 45.95.147.0/24, 250 requests each within a few seconds.
    const started = Date.now();
    const ips = ['45.95.147.3', '45.95.147.18', '45.95.147.77'];
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        ips.map((ip, k) =>
          fetch(`${server.url}/api/v1/events`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${server.writeKey}`,
              'user-agent': CHROME_UA,
            },
            body: JSON.stringify({
              events: Array.from({ length: 50 }, (_, i) => ({
                event_id: `flood-${k}-${round}-${i}`,
                type: 'page_view',
                url: `https://shop.example/p/${i}`,
                visitor_id: `flooder-${k}`,
                ip,
                user_agent: CHROME_UA,
              })),
            }),
          }).then((r) => assert.equal(r.status, 200)),
        ),
      );
    }

    let amFlood: { labels: Record<string, string> } | undefined;
    await eventually(
      async () => {
        amFlood = (await am.alerts()).find((a) => a.labels.alertname === 'request_flood');
        return amFlood !== undefined;
      },
      60_000,
      500,
    );
    const detectedMs = Date.now() - started;
    assert.ok(detectedMs < 60_000, `flagged in ${detectedMs} ms`);
    assert.equal(amFlood?.labels.site, 'default');
    assert.match(JSON.stringify(amFlood?.labels), /45\.95\.147/);
    await eventually(async () =>
      received.some((r) => r.alerts.some((a) => a.labels.alertname === 'request_flood')),
    );

    const listed = (await (await api('/api/v1/alerts?state=firing')).json()) as {
      alerts: { labels: Record<string, string> }[];
    };
    assert.ok(listed.alerts.some((a) => a.labels.alertname === 'request_flood'));
    const blocklist = await (await api('/api/v1/sites/default/blocklist?format=nginx')).text();
    assert.match(blocklist, /^deny 45\.95\.147\.0\/24;/m, blocklist);

    await server.kill9();
    await server.restart();
    await new Promise((r) => setTimeout(r, 8000));

    const silences = (await (await api('/api/v1/silences')).json()) as { silences: { comment: string }[] };
    assert.ok(
      silences.silences.some((s) => s.comment === 'crawler test in progress'),
      'the silence survived kill -9',
    );
    const history = (await (await api('/api/v1/alerts/history?limit=100')).json()) as {
      history: { state: string; labels: Record<string, string> }[];
    };
    assert.ok(
      history.history.some((h) => h.state === 'firing' && h.labels.alertname === 'request_flood'),
      'history survived',
    );
    const firingKeys = received.flatMap((r) =>
      r.alerts.filter((a) => a.status === 'firing').map((a) => a.idempotencyKey),
    );
    assert.equal(
      new Set(firingKeys).size,
      firingKeys.length,
      `no notification sent twice: ${firingKeys.join(', ')}`,
    );
  });
});
