import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type SmtpServer, smtpMissing, startSmtpServer } from '../testing/smtp.js';
import { Mailer } from './mailer.js';

describe('e-mail through a real SMTP server', { skip: smtpMissing() }, () => {
  let smtp: SmtpServer;
  before(async () => {
    smtp = await startSmtpServer();
  });
  after(() => smtp?.stop());

  it('delivers text, HTML and a CSV attachment', async () => {
    const mailer = new Mailer(smtp.url, 'storepulse@shop.example');
    await mailer.send({
      to: ['ops@shop.example'],
      subject: 'Revenue for shop, 2026-12-01 – 2026-12-02',
      text: 'orders: 12',
      html: '<p>orders: 12</p>',
      attachments: [
        { filename: 'revenue.csv', content: 'day,orders\r\n2026-12-01,12\r\n', contentType: 'text/csv' },
      ],
    });
    mailer.close();
    const [mail] = smtp.messages();
    assert.ok(mail, 'the SMTP server received a message');
    assert.equal(mail.subject, 'Revenue for shop, 2026-12-01 – 2026-12-02');
    assert.equal(mail.to, 'ops@shop.example');
    assert.deepEqual(mail.filenames, ['revenue.csv']);
    assert.equal(mail.parts.get('text/csv'), 'day,orders\r\n2026-12-01,12\r\n');
    assert.equal(mail.parts.get('text/html'), '<p>orders: 12</p>');
  });

  it('says how to turn e-mail on when no SMTP server is configured', async () => {
    await assert.rejects(
      new Mailer('', 'x@y.z').send({ to: ['a@b.c'], subject: 's', text: 't' }),
      /notify\.smtpUrl/,
    );
  });
});
