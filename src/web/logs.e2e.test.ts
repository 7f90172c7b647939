import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, ensureDashboardBuilt, launchChromium } from '../testing/browser.js';
import { eventually, runCli, type ServerProcess, startServer } from '../testing/server-process.js';

// The Logs page in Debian's Chromium over the real Apache access log: query, histogram, expand,
// click-to-filter, a malformed query's position, and a hostile user agent that stays text.
const skip = chromiumMissing();
const ROOT = new URL('../../', import.meta.url);
const ARTIFACTS = new URL('test-artifacts/', ROOT);
const APACHE_LOG = new URL('../../test-data/apache_logs', import.meta.url).pathname;
const EMAIL = 'logs@shop.example';
const PASSWORD = 'correct horse battery staple 42';
const HOSTILE_UA = '<img src=x onerror=alert(1)>';
const HOSTILE_LINE = `203.0.113.66 - - [17/May/2015:12:00:00 +0000] "GET /xss-probe HTTP/1.1" 418 12 "-" "${HOSTILE_UA}"`;

const MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');
const pad = (n: number) => String(n).padStart(2, '0');
/** `02/Dec/2026:17:40:00 +0000`, as Apache writes it. */
const apacheTime = (d: Date) =>
  `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;

describe('logs page in Chromium', { skip }, () => {
  let server: ServerProcess;
  let browser: Browser;
  const total = async (q: string) => {
    const res = await fetch(`${server.url}/api/v1/logs/histogram?q=${encodeURIComponent(q)}`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
    });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { total: number }).total;
  };
  const shot = (page: Page, name: string) =>
    page.screenshot({ path: new URL(name, ARTIFACTS).pathname, fullPage: true });

  before(async () => {
    ensureDashboardBuilt();
    [server, browser] = await Promise.all([
      startServer({
        env: { STOREPULSE_INGEST__ANONYMIZE_IP: 'false', STOREPULSE_LOGS__RETENTION_DAYS: '0' },
      }),
      launchChromium(),
    ]);
    const added = await runCli(['users', 'add', EMAIL, '--role', 'analyst', '--password-stdin'], {
      dataDir: server.dataDir,
      input: `${PASSWORD}\n`,
    });
    assert.equal(added.code, 0, `users add failed:\n${added.stdout}\n${added.stderr}`);
    const res = await fetch(`${server.url}/api/v1/logs/lines?format=apache&source=apache`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.writeKey}`, 'content-type': 'text/plain' },
      body: `${readFileSync(APACHE_LOG, 'utf8')}${HOSTILE_LINE}\n`,
    });
    assert.equal(res.status, 200, await res.clone().text());
    await eventually(async () => (await total('')) === 10_001, 30_000);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('search, histogram, expand, click-to-filter, query errors, inert hostile text', {
    timeout: 120_000,
  }, async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 1000 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && !/40[01]/.test(m.text()) && problems.push(m.text()));
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });

    await page.goto(`${server.url}/logs`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Logs' }).click();
    await page.getByTestId('logs-page').waitFor();
    await page.getByTestId('logs-total').filter({ hasText: '10,001' }).waitFor();

    // status:404: the count and the histogram agree with the API.
    const notFound = await total('status:404');
    assert.ok(notFound > 100, `only ${notFound} 404s`);
    await page.getByTestId('logs-query').fill('status:404');
    await page.getByTestId('logs-search').click();
    await page
      .getByTestId('logs-total')
      .filter({ hasText: notFound.toLocaleString('en-US') })
      .waitFor();
    await eventually(
      async () =>
        ((await page.getByTestId('logs-histogram').getAttribute('data-summary')) ?? '').startsWith(
          `${notFound} matches in `,
        ),
      10_000,
    );
    assert.match(page.url(), /[?&]q=status%3A404/);
    const rows = page.getByTestId('log-row');
    assert.equal(await rows.count(), 50);
    assert.ok((await rows.first().locator('mark').first().textContent())?.includes('404'));

    // Expand a record: all its fields.
    await rows.first().getByTestId('log-row-toggle').click();
    const detail = rows.first().getByTestId('log-detail');
    await detail.getByRole('rowheader', { name: 'user_agent' }).waitFor();
    await detail.getByRole('rowheader', { name: 'status' }).waitFor();
    await shot(page, 'logs-status-404.png');

    // Click-to-filter from the sidebar: the most frequent 404 path.
    const topPath = page.getByTestId('logs-field-path').getByTestId('logs-field-value').first();
    const path = (await topPath.locator('.logs-value-text').textContent()) ?? '';
    await topPath.click();
    const filtered = `status:404 AND path:"${path}"`;
    await eventually(async () => (await page.getByTestId('logs-query').inputValue()) === filtered, 5000);
    const pathCount = await total(filtered);
    assert.ok(pathCount > 0 && pathCount < notFound);
    await page
      .getByTestId('logs-total')
      .filter({ hasText: pathCount.toLocaleString('en-US') })
      .waitFor();

    // The URL keeps the search: a reload (a link) opens it again.
    await page.reload();
    await page
      .getByTestId('logs-total')
      .filter({ hasText: pathCount.toLocaleString('en-US') })
      .waitFor();
    assert.equal(await page.getByTestId('logs-query').inputValue(), filtered);

    // A malformed query: the error points at the position.
    await page.getByTestId('logs-query').fill('status:[500 TO');
    await page.getByTestId('logs-search').click();
    const err = page.getByTestId('logs-query-error');
    await err.waitFor();
    assert.match((await err.textContent()) ?? '', /never closed/);
    assert.equal(await err.getByTestId('logs-query-error-position').getAttribute('data-position'), '7');
    await shot(page, 'logs-query-error.png');

    // The hostile user agent shows as text in the list, the details and the sidebar.
    await page.getByTestId('logs-query').fill('status:418');
    await page.getByTestId('logs-search').click();
    await page.getByTestId('logs-total').filter({ hasText: /^1$/ }).waitFor();
    await rows.first().getByTestId('log-row-toggle').click();
    await rows.first().getByTestId('log-detail').getByText(HOSTILE_UA, { exact: true }).waitFor();
    await page.getByTestId('logs-field-user_agent').getByText(HOSTILE_UA, { exact: true }).waitFor();
    assert.equal(await page.locator('img[src=x]').count(), 0);

    // Saved search (this browser): save, search something else, pick it again.
    await page.getByTestId('logs-save').click();
    await page.getByTestId('logs-save-name').fill('teapots');
    await page.getByTestId('logs-save-confirm').click();
    await page.getByTestId('logs-query').fill('status:200');
    await page.getByTestId('logs-search').click();
    await page
      .getByTestId('logs-total')
      .filter({ hasText: (await total('status:200')).toLocaleString('en-US') })
      .waitFor();
    await page.getByTestId('logs-saved').selectOption('teapots');
    await page.getByTestId('logs-total').filter({ hasText: /^1$/ }).waitFor();
    assert.equal(await page.getByTestId('logs-query').inputValue(), 'status:418');

    // Live tail: a line sent now appears on top without a new search.
    await page.getByTestId('logs-query').fill('path:"/live-probe"');
    await page.getByTestId('logs-search').click();
    await page.getByTestId('logs-total').filter({ hasText: /^0$/ }).waitFor();
    await page.getByTestId('logs-live').check();
    const stamp = apacheTime(new Date());
    const sent = await fetch(`${server.url}/api/v1/logs/lines?format=apache&source=apache`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.writeKey}`, 'content-type': 'text/plain' },
      body: `198.51.100.7 - - [${stamp}] "GET /live-probe HTTP/1.1" 200 5 "-" "curl/8.0"\n`,
    });
    assert.equal(sent.status, 200);
    await rows.first().getByText('/live-probe', { exact: false }).waitFor();
    await page.getByTestId('logs-live').uncheck();

    // Dark theme and phone width.
    await page.getByTestId('theme-toggle').click();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId('logs-syntax-toggle').click();
    await page.getByTestId('logs-syntax').waitFor();
    await shot(page, 'logs-phone-dark.png');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `page is ${overflow}px wider than the phone`);

    assert.deepEqual(problems, []);
    await context.close();
  });
});
