import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Mailer } from '../notify/mailer.js';
import { type AlertmanagerProcess, alertmanagerMissing, startAlertmanager } from '../testing/alertmanager.js';
import { type SmtpServer, smtpMissing, startSmtpServer } from '../testing/smtp.js';
import { AlertManager } from './manager.js';
import { Notifier } from './notifier.js';
import { openAlertDb } from './store.js';
import type { Signal } from './types.js';

const LOOPBACK = { allowNetworks: ['127.0.0.1/32'] };
const T0 = Date.parse('2026-12-02T10:00:00Z');

describe('alert notifications reach real peers', { skip: alertmanagerMissing() || smtpMissing() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'storepulse-notify-'));
  let am: AlertmanagerProcess;
  let smtp: SmtpServer;
  let hook: Server;
  let hookUrl = '';
  let hookStatus = 200;
  const hookCalls: { signature: string; body: string }[] = [];

  before(async () => {
    [am, smtp] = await Promise.all([startAlertmanager(), startSmtpServer()]);
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        hookCalls.push({ signature: String(req.headers['x-storepulse-signature']), body });
        res.statusCode = hookStatus;
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
  });
  after(async () => {
    hook?.close();
    await Promise.all([am?.stop(), smtp?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('one firing alert goes to Alertmanager, a signed webhook and e-mail; a failing webhook is retried without repeating the others', async () => {
    const db = openAlertDb(join(dir, 'alerts.sqlite'));
    const manager = new AlertManager({ db });
    const mailer = new Mailer(smtp.url, 'alerts@shop.example');
    const notifier = new Notifier(db, {
      mailer,
      policy: LOOPBACK,
      firing: () => manager.alerts({ state: 'firing' }),
    });
    notifier.addChannel({
      name: 'am',
      type: 'alertmanager',
      target: am.url,
      minSeverity: 'info',
      sites: [],
      createdBy: 't',
    });
    const { secret } = notifier.addChannel({
      name: 'hook',
      type: 'webhook',
      target: hookUrl,
      minSeverity: 'warning',
      sites: ['shop'],
      createdBy: 't',
    });
    notifier.addChannel({
      name: 'mail',
      type: 'email',
      target: 'oncall@shop.example',
      minSeverity: 'critical',
      sites: [],
      createdBy: 't',
    });
    assert.ok(secret);

    const signal: Signal = {
      labels: { alertname: 'order_rate_anomaly', metric: 'orders' },
      severity: 'critical',
      summary: 'Orders dropped: 12 in 10 min, expected 40 (30–50)',
      at: T0,
      value: 12,
      band: { expected: 40, lower: 30, upper: 50 },
    };
    manager.process({ rule: 'orders', site: 'shop', at: T0, signals: [signal] }, T0);

    hookStatus = 500;
    assert.equal(await notifier.flush(T0), 0, 'the webhook failed, so the notification is not done');
    assert.equal(hookCalls.length, 1);
    const amAlerts = await am.alerts();
    assert.equal(amAlerts.length, 1, 'Alertmanager got it on the first try');
    assert.equal(amAlerts[0].labels.alertname, 'order_rate_anomaly');
    assert.equal(amAlerts[0].labels.site, 'shop');
    assert.equal(amAlerts[0].labels.severity, 'critical');
    assert.equal(amAlerts[0].annotations.summary, signal.summary);
    assert.equal(amAlerts[0].status.state, 'active');

    hookStatus = 200;
    assert.equal(await notifier.flush(T0 + 4000), 0, 'backing off: not retried before its time');
    assert.equal(await notifier.flush(T0 + 60_000), 1);
    assert.equal(hookCalls.length, 2);
    assert.equal(smtp.messages().length, 1, 'the e-mail went out once, not again on the retry');

    // The receiver checks the signature with the secret it was given.
    const { signature, body } = hookCalls[1];
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature)!;
    assert.ok(
      timingSafeEqual(Buffer.from(v1, 'hex'), createHmac('sha256', secret).update(`${t}.${body}`).digest()),
    );
    const payload = JSON.parse(body);
    assert.equal(payload.status, 'firing');
    assert.deepEqual(payload.alerts[0].band, { expected: 40, lower: 30, upper: 50 });

    const [mail] = smtp.messages();
    assert.match(mail.subject, /\[FIRING\] Orders dropped/);
    assert.equal(mail.to, 'oncall@shop.example');

    // Resolution reaches Alertmanager as an ended alert.
    manager.process({ rule: 'orders', site: 'shop', at: T0 + 120_000, signals: [] }, T0 + 120_000);
    await notifier.flush(T0 + 120_000);
    const after = await am.alerts();
    assert.equal(after.filter((a) => a.status.state === 'active').length, 0, 'resolved in Alertmanager');
    mailer.close();
    db.close();
  });
});
