import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's python3 with python3-aiosmtpd (installed by .ci/run). */
const PYTHON = '/usr/bin/python3';

export const smtpMissing = (): string | false =>
  spawnSync(PYTHON, ['-c', 'import aiosmtpd'], { stdio: 'ignore' }).status === 0
    ? false
    : 'needs a real SMTP server: apt-get install python3-aiosmtpd';

export interface ReceivedMail {
  raw: string;
  subject: string;
  to: string;
  /** Decoded body parts by content type (text/plain, text/html, text/csv). */
  parts: Map<string, string>;
  /** Attachment file names. */
  filenames: string[];
}

export interface SmtpServer {
  url: string;
  messages(): ReceivedMail[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A real SMTP server process (aiosmtpd) that stores what it receives in a maildir, so a test
 * can check what was really sent over SMTP.
 */
export async function startSmtpServer(): Promise<SmtpServer> {
  const dir = mkdtempSync(join(tmpdir(), 'storepulse-smtp-'));
  const box = join(dir, 'mail');
  const port = await freePort();
  const child: ChildProcess = spawn(
    PYTHON,
    ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', box],
    { stdio: 'ignore' },
  );
  // Ready when it accepts connections.
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const sock = new Socket();
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
      sock.connect(port, '127.0.0.1');
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages: () => {
      const fresh = join(box, 'new');
      if (!existsSync(fresh)) return [];
      return readdirSync(fresh)
        .sort()
        .map((f) => parseMail(readFileSync(join(fresh, f), 'utf8')));
    },
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r).once('error', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function header(block: string, name: string): string {
  const m = new RegExp(`^${name}:[ \\t]*((?:.*)(?:\\r?\\n[ \\t].*)*)`, 'im').exec(block);
  return m ? m[1].replace(/\r?\n[ \t]+/g, ' ').trim() : '';
}

/** Just enough MIME for tests: multipart boundaries, base64 and quoted-printable parts. */
export function parseMail(raw: string): ReceivedMail {
  const parts = new Map<string, string>();
  const filenames: string[] = [];
  const walk = (entity: string) => {
    const split = entity.search(/\r?\n\r?\n/);
    const head = split < 0 ? entity : entity.slice(0, split);
    const body = split < 0 ? '' : entity.slice(split).replace(/^\r?\n\r?\n/, '');
    const type = header(head, 'Content-Type') || 'text/plain';
    const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
    if (type.toLowerCase().startsWith('multipart/') && boundary) {
      for (const sub of body.split(`--${boundary}`).slice(1))
        if (!sub.startsWith('--')) walk(sub.replace(/^\r?\n/, '').replace(/\r?\n$/, ''));
      return;
    }
    const name = /filename="?([^";\r\n]+)"?/i.exec(header(head, 'Content-Disposition'))?.[1];
    if (name) filenames.push(name);
    const encoding = header(head, 'Content-Transfer-Encoding').toLowerCase();
    const text =
      encoding === 'base64'
        ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
        : encoding === 'quoted-printable'
          ? Buffer.from(
              body
                .replace(/=\r?\n/g, '')
                .replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(Number.parseInt(h, 16))),
              'latin1',
            ).toString('utf8')
          : body;
    parts.set(type.split(';')[0].trim().toLowerCase(), text);
  };
  walk(raw);
  return { raw, subject: decodeWords(header(raw, 'Subject')), to: header(raw, 'To'), parts, filenames };
}

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=), as non-ASCII subjects are sent. */
function decodeWords(v: string): string {
  return v
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QB])\?([^?]*)\?=/gi, (_, _charset, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text
              .replace(/_/g, ' ')
              .replace(/=([0-9A-F]{2})/gi, (_m, h) => String.fromCharCode(Number.parseInt(h, 16))),
            'latin1',
          ).toString('utf8'),
    );
}
