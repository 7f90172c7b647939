import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, type ServerProcess, startServer } from '../testing/server-process.js';
import { type SmtpServer, smtpMissing, startSmtpServer } from '../testing/smtp.js';

const SAMPLE = join(import.meta.dirname, '..', '..', 'test-data', 'rees46_sample.csv');

/**
 * Scheduled reports on a real server: the REES46 sample's day is e-mailed through a real SMTP
 * server and posted to a signed webhook; both carry exactly the CSV the reports API gives for
 * that day.
 */
describe('scheduled reports', { skip: smtpMissing() }, () => {
  let server: ServerProcess;
  let smtp: SmtpServer;
  let hook: Server;
  let hookUrl = '';
  const hooked: { signature: string; body: string }[] = [];

  before(async () => {
    smtp = await startSmtpServer();
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        hooked.push({ signature: String(req.headers['x-storepulse-signature']), body });
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/reports`;
    server = await startServer({
      env: { STOREPULSE_NOTIFY__SMTP_URL: smtp.url, STOREPULSE_NOTIFY__ALLOW_NETWORKS: '127.0.0.1/32' },
    });
    const imported = await runCli(['import', SAMPLE, '--no-progress'], { dataDir: server.dataDir });
    assert.equal(imported.code, 0, imported.stderr);
  });
  after(async () => {
    server?.cleanup();
    hook?.close();
    await smtp?.stop();
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
  const create = async (body: Record<string, unknown>) => {
    const res = await api('/api/v1/report-schedules', { method: 'POST', body: JSON.stringify(body) });
    return {
      status: res.status,
      body: (await res.json()) as { schedule: { id: string }; secret?: string; error?: string },
    };
  };

  it('refuses bad schedules with a reason', async () => {
    const base = {
      site: 'default',
      report: 'revenue',
      cadence: 'daily',
      hour: 6,
      channel: 'email',
      target: 'a@b.example',
    };
    assert.match((await create({ ...base, report: 'nope' })).body.error ?? '', /unknown report "nope"/);
    assert.match(
      (await create({ ...base, target: 'not-an-address' })).body.error ?? '',
      /not e-mail addresses/,
    );
    assert.match(
      (await create({ ...base, params: { from: '2019-10-01' } })).body.error ?? '',
      /set by the cadence/,
    );
    const ssrf = await create({ ...base, channel: 'webhook', target: 'http://10.0.0.5/hook' });
    assert.equal(ssrf.status, 400);
    assert.match(ssrf.body.error ?? '', /non-public address/);
  });

  it('e-mails the day before as CSV + HTML and posts it to a signed webhook', {
    timeout: 120_000,
  }, async () => {
    const email = await create({
      site: 'default',
      report: 'revenue',
      cadence: 'daily',
      hour: 6,
      channel: 'email',
      target: 'owner@shop.example',
    });
    assert.equal(email.status, 201, email.body.error ?? '');
    const webhook = await create({
      site: 'default',
      report: 'category-heatmap',
      cadence: 'weekly',
      hour: 7,
      weekday: 1,
      channel: 'webhook',
      target: hookUrl,
    });
    assert.equal(webhook.status, 201, webhook.body.error ?? '');
    assert.ok(webhook.body.secret, 'the signing secret is shown once');

    // Send as if it were 2019-10-02 06:00 UTC: the daily report covers 2019-10-01, the sample's day.
    const sent = await api(`/api/v1/report-schedules/${email.body.schedule.id}/send`, {
      method: 'POST',
      body: JSON.stringify({ at: '2019-10-02T06:00:00Z' }),
    });
    const outcome = (await sent.json()) as { ok: boolean; detail: string };
    assert.equal(sent.status, 200, outcome.detail);
    const expected = await (
      await api('/api/v1/sites/default/reports/revenue?from=2019-10-01&to=2019-10-02&format=csv')
    ).text();
    assert.ok(expected.split('\n').length >= 2, 'the report has a row for the day');
    const [mail] = smtp.messages();
    assert.equal(mail.to, 'owner@shop.example');
    assert.match(mail.subject, /for default, 2019-10-01 – 2019-10-02/);
    assert.deepEqual(mail.filenames, ['storepulse-default-revenue-2019-10-01-2019-10-02.csv']);
    assert.equal(
      mail.parts.get('text/csv')?.replaceAll('\r\n', '\n').trim(),
      expected.replaceAll('\r\n', '\n').trim(),
    );
    assert.match(mail.parts.get('text/html') ?? '', /<table/);

    const posted = await api(`/api/v1/report-schedules/${webhook.body.schedule.id}/send`, {
      method: 'POST',
      body: JSON.stringify({ at: '2019-10-07T07:00:00Z' }),
    });
    assert.equal(posted.status, 200, await posted.text());
    const [{ signature, body }] = hooked;
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature)!;
    const mac = createHmac('sha256', webhook.body.secret!).update(`${t}.${body}`).digest();
    assert.ok(timingSafeEqual(Buffer.from(v1, 'hex'), mac), 'signed with the schedule’s secret');
    const payload = JSON.parse(body) as { from: string; to: string; csv: string; report: string };
    assert.deepEqual(
      [payload.report, payload.from, payload.to],
      ['category-heatmap', '2019-09-30', '2019-10-07'],
    );
    const heatmap = await (
      await api('/api/v1/sites/default/reports/category-heatmap?from=2019-09-30&to=2019-10-07&format=csv')
    ).text();
    assert.equal(payload.csv.replaceAll('\r\n', '\n').trim(), heatmap.replaceAll('\r\n', '\n').trim());

    // The schedules list shows the outcome; the next regular send is in the future.
    const list = (await (await api('/api/v1/report-schedules')).json()) as {
      schedules: { id: string; lastStatus: string; nextRunAt: number }[];
    };
    const mine = list.schedules.find((s) => s.id === email.body.schedule.id)!;
    assert.equal(mine.lastStatus, 'sent');
    assert.ok(mine.nextRunAt > Date.now());
  });
});
