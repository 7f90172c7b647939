import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { chromiumMissing, ensureDashboardBuilt, launchChromium } from '../testing/browser.js';
import { eventually, runCli, type ServerProcess, startServer } from '../testing/server-process.js';

// An alert from log metrics in Debian's Chromium: a password-guessing IP fires failed_logins;
// on the Alerts page the alert links to the Logs page, which opens with the IP's query and the
// alert's time range, finds exactly its lines and charts them (requests by status, p95).
const skip = chromiumMissing();
const ROOT = new URL('../../', import.meta.url);
const ARTIFACTS = new URL('test-artifacts/', ROOT);
const EMAIL = 'oncall@shop.example';
const PASSWORD = 'correct horse battery staple 43';
const GUESSER = '203.0.113.9';

describe('alert → logs link in Chromium', { skip }, () => {
  let server: ServerProcess;
  let browser: Browser;

  before(async () => {
    ensureDashboardBuilt();
    [server, browser] = await Promise.all([
      startServer({ env: { STOREPULSE_INGEST__ANONYMIZE_IP: 'false' } }),
      launchChromium(),
    ]);
    const added = await runCli(['users', 'add', EMAIL, '--role', 'analyst', '--password-stdin'], {
      dataDir: server.dataDir,
      input: `${PASSWORD}\n`,
    });
    assert.equal(added.code, 0, `users add failed:\n${added.stdout}\n${added.stderr}`);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('a failed-login alert opens the Logs page on its lines', { timeout: 120_000 }, async () => {
    // 12 rejected logins from one address three minutes ago, and a normal request now: log
    // time has passed their minutes, so the rule has seen them when the lines are in.
    const now = Date.now();
    const line = (t: number, ip: string, method: string, path: string, status: number) =>
      JSON.stringify({
        time: new Date(t).toISOString(),
        ip,
        method,
        path,
        status,
        bytes: 120,
        response_time_ms: 40,
      });
    const lines = [
      ...Array.from({ length: 12 }, (_, i) =>
        line(now - 180_000 + i * 1000, GUESSER, 'POST', '/account/login', 401),
      ),
      line(now - 1000, '192.0.2.10', 'GET', '/', 200),
    ];
    const res = await fetch(`${server.url}/api/v1/logs/lines?source=app`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.writeKey}`, 'content-type': 'text/plain' },
      body: lines.join('\n'),
    });
    assert.equal(res.status, 200, await res.clone().text());
    await eventually(async () => {
      const r = await fetch(`${server.url}/api/v1/alerts?site=default&state=firing`, {
        headers: { authorization: `Bearer ${server.apiKey}` },
      });
      const { alerts } = (await r.json()) as { alerts: { labels: Record<string, string> }[] };
      return alerts.some((a) => a.labels.key === `ip:${GUESSER}`);
    }, 30_000);

    const context = await browser.newContext({ viewport: { width: 1366, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && !/40[01]/.test(m.text()) && problems.push(m.text()));

    await page.goto(`${server.url}/login`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('live-page').waitFor();
    await page.getByRole('link', { name: 'Alerts', exact: true }).click();
    const alert = page
      .getByTestId('alert-item')
      .filter({ hasText: `failed login attempts for ip:${GUESSER}` });
    await alert.locator('button.alert-head').click();
    // Its chart shows the log-derived failed logins per minute.
    await eventually(
      async () =>
        /^logs\.errors\.login .*: [1-9]\d* minutes/.test(
          (await alert.getByTestId('alert-chart').getAttribute('data-summary')) ?? '',
        ),
      10_000,
    );
    const link = alert.getByTestId('alert-logs-link');
    const href = new URL((await link.getAttribute('href')) ?? '', server.url);
    assert.equal(href.pathname, '/logs');
    assert.equal(href.searchParams.get('q'), `ip:${GUESSER}`);
    assert.equal(href.searchParams.get('site'), 'default');
    const from = Number(href.searchParams.get('from'));
    assert.ok(from <= now - 180_000 && from > now - 15 * 60_000, `from ${new Date(from).toISOString()}`);
    assert.equal(href.searchParams.get('to'), null); // still firing: open end

    await link.click();
    await page.getByTestId('logs-page').waitFor();
    assert.equal(await page.getByTestId('logs-query').inputValue(), `ip:${GUESSER}`);
    await page.getByTestId('logs-total').filter({ hasText: /^12$/ }).waitFor();
    // The metrics panel charts every request line of the range: the 12 rejected logins and the normal one.
    await page
      .getByTestId('log-metrics-summary')
      .filter({ hasText: '13 requests, 12 4xx, 0 5xx, highest p95' })
      .waitFor();
    await page.screenshot({ path: new URL('alert-logs-link.png', ARTIFACTS).pathname, fullPage: true });
    assert.deepEqual(problems, []);
    await context.close();
  });
});
