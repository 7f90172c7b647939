import nodemailer, { type Transporter } from 'nodemailer';

export interface Mail {
  to: string[];
  subject: string;
  text: string;
  html?: string;
  attachments?: { filename: string; content: string | Buffer; contentType: string }[];
}

export const EMAIL_ADDRESS = /^[^\s@,;<>"]+@[^\s@,;<>"]+$/;

/** E-mail over SMTP (notify.smtpUrl). Unset, e-mail is off and sending says how to turn it on. */
export class Mailer {
  private readonly transport: Transporter | null;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    this.transport = smtpUrl ? nodemailer.createTransport(smtpUrl) : null;
  }

  get enabled(): boolean {
    return this.transport !== null;
  }

  async send(mail: Mail): Promise<{ messageId: string }> {
    if (!this.transport)
      throw new Error(
        'e-mail is off: set notify.smtpUrl (STOREPULSE_NOTIFY__SMTP_URL), e.g. smtp://mail.example.com:587',
      );
    const bad = mail.to.filter((a) => !EMAIL_ADDRESS.test(a));
    if (mail.to.length === 0 || bad.length > 0)
      throw new Error(`not e-mail addresses: ${bad.join(', ') || '(none)'}`);
    const info = await this.transport.sendMail({ from: this.from, ...mail });
    return { messageId: String(info.messageId) };
  }

  close(): void {
    this.transport?.close();
  }
}
