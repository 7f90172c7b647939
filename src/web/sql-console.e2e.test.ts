import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, ensureDashboardBuilt, launchChromium } from '../testing/browser.js';
import { CHROME_UA } from '../testing/ingest-context.js';
import {
  eventually,
  postEvents,
  runCli,
  type ServerProcess,
  sql,
  startServer,
} from '../testing/server-process.js';

// The SQL console and the catalog in Debian's Chromium: run, chart, cancel, save, download, catalog.
const skip = chromiumMissing();
const ROOT = new URL('../../', import.meta.url);
const ARTIFACTS = new URL('test-artifacts/', ROOT);
const EMAIL = 'analyst@shop.example';
const PASSWORD = 'quiet lantern orchard 58';
/** Minutes of cross join: only Cancel ends it (the time limit is set far above the test's patience). */
const SLOW = 'select count(*) as n from range(1000000000) a, range(1000000) b';

const shot = (page: Page, name: string) =>
  page.screenshot({ path: new URL(name, ARTIFACTS).pathname, fullPage: true });

/** A file written by a newer writer, with a column the older files lack (schema evolution). */
async function addFileWithNewColumn(dataDir: string) {
  const lake = join(dataDir, 'lake', 'events');
  const dir = join(lake, 'dt=2030-01-02', 'hour=03');
  mkdirSync(dir, { recursive: true });
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run(
    `COPY (SELECT * REPLACE (TIMESTAMP '2030-01-02 03:04:05' AS event_time, 'new-' || event_id AS event_id),
                  'SPRING' AS coupon
           FROM read_parquet('${lake}/*/*/*.parquet') LIMIT 5)
     TO '${join(dir, '.import-evolution-0.parquet')}' (FORMAT parquet)`,
  );
  conn.closeSync();
  db.closeSync();
  renameSync(join(dir, '.import-evolution-0.parquet'), join(dir, 'import-evolution-0.parquet'));
}

/** Elements that stick out past the right edge of the window (none should, at any width). */
const overflowing = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .filter((el) => !el.closest('.table-scroll, .cm-scroller, .chart'))
      .map(
        (el) =>
          `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} ${Math.round(el.getBoundingClientRect().right)}`,
      )
      .slice(0, 8),
  );

/** Replaces the editor's text, as a person selecting all and typing would. */
async function typeSql(page: Page, text: string) {
  const editor = page.getByTestId('sql-editor-input');
  await editor.click();
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Delete');
  await editor.fill(text);
}

describe('SQL console and catalog in Chromium', { skip }, () => {
  let server: ServerProcess;
  let browser: Browser;

  before(async () => {
    ensureDashboardBuilt();
    [server, browser] = await Promise.all([
      startServer({ env: { STOREPULSE_QUERY__TIMEOUT_MS: '120000' } }),
      launchChromium(),
    ]);
    const added = await runCli(['users', 'add', EMAIL, '--role', 'analyst', '--password-stdin'], {
      dataDir: server.dataDir,
      input: `${PASSWORD}\n`,
    });
    assert.equal(added.code, 0, added.stderr);
    const now = Date.now();
    const events = Array.from({ length: 90 }, (_, i) => ({
      type: ['view', 'view', 'cart', 'purchase', 'page_view'][i % 5],
      product_id: `p${i % 6}`,
      price: 10 + (i % 7),
      time: now - (i % 30) * 60_000,
      event_id: `sql-e2e-${i}`,
    }));
    assert.equal((await postEvents(server, { events }, { 'user-agent': CHROME_UA })).status, 200);
    await eventually(async () => (await sql(server, 'select count(*) as n from events'))[0].n === 90);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    server?.cleanup();
  });

  test('run, chart, cancel, save, download, then the catalog', { timeout: 120_000 }, async () => {
    const context = await browser.newContext({
      viewport: { width: 1366, height: 1000 },
      acceptDownloads: true,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      // The cancelled run answers 409 by design; the browser logs the failed request.
      if (m.type() === 'error' && !/\b(401|409)\b/.test(m.text())) problems.push(m.text());
    });
    page.on('dialog', (d) => {
      problems.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });

    await page.goto(`${server.url}/sql`);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'SQL' }).click();
    await page.getByTestId('sql-page').waitFor();
    await page.getByTestId('sql-editor-input').waitFor();

    // Completion offers the lake's columns with their types.
    await page.getByTestId('side-tables').click();
    await page.getByTestId('table-list').getByText('events', { exact: true }).waitFor();
    await typeSql(page, 'select ');
    await page.keyboard.type('event_ty', { delay: 30 });
    await page.locator('.cm-tooltip-autocomplete').getByText('event_type').first().waitFor();
    await page.keyboard.press('Escape');

    // Run a query with the button: a table of results.
    await typeSql(page, 'select event_type, count(*) as events from events group by 1 order by 2 desc, 1');
    await page.getByTestId('sql-run').click();
    const table = page.getByTestId('sql-result-table');
    await table.getByRole('cell', { name: 'view', exact: true }).waitFor();
    const expected = await sql(
      server,
      'select event_type, count(*) as events from events group by 1 order by 2 desc, 1',
    );
    const firstRow = await table.locator('tbody tr').first().locator('td').allTextContents();
    assert.deepEqual(firstRow, [String(expected[0].event_type), String(expected[0].events)]);
    assert.match((await page.getByTestId('sql-pager').textContent()) ?? '', /Rows 1–4 of 4/);

    // One click charts it: few categories and one number → a pie; bar is offered too.
    await page.getByTestId('sql-chart-button').click();
    await eventually(
      async () =>
        /^pie: 4 points/.test((await page.getByTestId('sql-chart').getAttribute('data-summary')) ?? ''),
      5000,
    );
    await page.getByTestId('chart-kind-bar').click();
    await eventually(
      async () => /^bar:/.test((await page.getByTestId('sql-chart').getAttribute('data-summary')) ?? ''),
      5000,
    );

    // Ctrl+Enter runs; a time column gives a line chart.
    await typeSql(
      page,
      "select date_trunc('minute', event_time) as minute, count(*) as events from events group by 1 order by 1",
    );
    await page.keyboard.press('Control+Enter');
    await eventually(
      async () =>
        /^line: 30 points/.test((await page.getByTestId('sql-chart').getAttribute('data-summary')) ?? ''),
      10_000,
    );
    await shot(page, 'sql-console-chart.png');

    // A slow query is cancelled from the page, long before its time limit.
    await typeSql(page, SLOW);
    await page.getByTestId('sql-run').click();
    await page.getByTestId('sql-status').filter({ hasText: 'Running' }).waitFor();
    await page.waitForTimeout(800);
    const cancelledAt = Date.now();
    await page.getByTestId('sql-cancel').click();
    await page
      .getByTestId('sql-error')
      .filter({ hasText: /cancelled after \d+ ms/ })
      .waitFor();
    assert.ok(Date.now() - cancelledAt < 5000, 'the query stopped within seconds of Cancel');
    await page.getByTestId('sql-run').waitFor();
    await shot(page, 'sql-console-cancelled.png');

    // History shows it.
    await page.getByTestId('side-history').click();
    await page
      .getByTestId('history-list')
      .locator('li')
      .first()
      .getByText('cancelled', { exact: true })
      .waitFor();

    // Save a shared query; it is listed with the share box ticked.
    await typeSql(page, 'select brand, sum(price) as revenue from events group by 1');
    await page.getByTestId('sql-save').click();
    const form = page.getByTestId('save-form');
    await form.getByLabel('Name').fill('Revenue by brand');
    await form.getByLabel('Description').fill('for the Monday meeting');
    await form.getByLabel('Share with the team').check();
    await form.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByTestId('saved-list').getByText('Revenue by brand').waitFor();
    assert.equal(await page.getByTestId('saved-list').getByLabel('Share with the team').isChecked(), true);

    // Downloads: the whole result as CSV and as Parquet.
    await typeSql(page, 'select event_id, event_type, price from events order by event_id');
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('download-csv').click(),
    ]);
    assert.match(csv.suggestedFilename(), /^storepulse-query-.*\.csv$/);
    const csvText = readFileSync((await csv.path()) as string, 'utf8')
      .trim()
      .split('\n');
    assert.equal(csvText[0], 'event_id,event_type,price');
    assert.equal(csvText.length, 91);
    const [parquet] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('download-parquet').click(),
    ]);
    assert.match(parquet.suggestedFilename(), /\.parquet$/);
    const bytes = readFileSync((await parquet.path()) as string);
    assert.equal(bytes.subarray(0, 4).toString(), 'PAR1');
    await page.getByTestId('sql-notice').filter({ hasText: 'Downloaded 90 rows as PARQUET' }).waitFor();

    // Dark theme and phone width.
    await page.getByTestId('theme-toggle').click();
    await typeSql(page, 'select event_type, count(*) as events from events group by 1 order by 1');
    await page.getByTestId('sql-run').click();
    await page.getByTestId('sql-chart').waitFor();
    await shot(page, 'sql-console-dark.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId('sql-chart').waitFor();
    assert.deepEqual(await overflowing(page), [], 'no sideways scrolling at phone width');
    await shot(page, 'sql-console-phone.png');
    await page.setViewportSize({ width: 1366, height: 1000 });

    // The catalog: row count, partitions, columns (one added by a newer writer), freshness.
    await addFileWithNewColumn(server.dataDir);
    await page.getByRole('link', { name: 'Catalog' }).click();
    await page.getByTestId('catalog-page').waitFor();
    await eventually(
      async () => (await page.getByTestId('catalog-events-rows-value').textContent()) === '95',
      5000,
    );
    const coupon = page.getByTestId('catalog-events-columns').getByRole('row').filter({ hasText: 'coupon' });
    await coupon.getByText('added on 2030-01-02').waitFor();
    const partitions = page.getByTestId('catalog-events-partitions').locator('tbody tr');
    assert.ok((await partitions.count()) >= 1);
    await page
      .getByTestId('catalog-events-columns')
      .getByRole('cell', { name: 'event_time', exact: true })
      .waitFor();
    await page.getByTestId('catalog-events-freshness').getByText('newest').first().waitFor();
    await shot(page, 'catalog-dark.png');
    await page.getByTestId('theme-toggle').click();
    await shot(page, 'catalog-light.png');
    await page.setViewportSize({ width: 390, height: 844 });
    assert.deepEqual(await overflowing(page), [], 'no sideways scrolling at phone width');
    await shot(page, 'catalog-phone.png');

    assert.deepEqual(problems, [], 'no page errors, console errors or dialogs');
    await context.close();
  });
});
