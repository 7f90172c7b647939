import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { deliver, deliverWithRetry, TargetRefused } from './http-target.js';

const PUBLIC_ONLY = { allowNetworks: [] };
const LOOPBACK_OK = { allowNetworks: ['127.0.0.1/32'] };

describe('webhook targets refuse private addresses (SSRF)', () => {
  for (const url of [
    'http://127.0.0.1:9/hook',
    'http://10.1.2.3/hook',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]:9/hook',
    'http://[::ffff:10.0.0.1]/hook',
    'http://0.0.0.0:9/',
    'http://192.168.1.1/',
  ]) {
    it(`refuses ${url}`, async () => {
      await assert.rejects(deliver(url, { body: '{}', policy: PUBLIC_ONLY }), (err: Error) => {
        assert.ok(err instanceof TargetRefused, err.message);
        assert.match(
          err.message,
          /refused to connect .* non-public address; allow it with notify\.allowNetworks/,
        );
        return true;
      });
    });
  }

  it('refuses a hostname that resolves to a private address, at connect time', async () => {
    await assert.rejects(
      deliver('http://localhost:9/hook', { body: '{}', policy: PUBLIC_ONLY }),
      (err: Error) => {
        assert.match(err.message, /localhost:9 \((127\.0\.0\.1|::1)\)/);
        return true;
      },
    );
  });

  it('refuses other schemes and credentials in the URL', async () => {
    await assert.rejects(
      deliver('file:///etc/passwd', { body: '', policy: PUBLIC_ONLY }),
      /only http and https/,
    );
    await assert.rejects(
      deliver('https://u:p@example.com/', { body: '', policy: PUBLIC_ONLY }),
      /credentials/,
    );
  });
});

describe('webhook delivery', () => {
  let server: Server;
  let base = '';
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void = (_q, res) => res.end('ok');

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        handler(req, res, body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('signs the body so the receiver can verify it', async () => {
    handler = (_q, res) => res.end('ok');
    const body = JSON.stringify({ alert: 'orders dropped' });
    const r = await deliver(`${base}/hook`, { body, hmacSecret: 's3cret', policy: LOOPBACK_OK });
    assert.equal(r.status, 200);
    const got = received.at(-1)!;
    assert.equal(got.body, body);
    // What a receiver does: recompute HMAC-SHA256 over "<t>.<body>" and compare in constant time.
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(got.headers['x-storepulse-signature']))!;
    const expected = createHmac('sha256', 's3cret').update(`${t}.${got.body}`).digest();
    assert.ok(timingSafeEqual(Buffer.from(v1, 'hex'), expected));
    assert.ok(Math.abs(Number(t) - Date.now() / 1000) < 60);
    const forged = createHmac('sha256', 'other').update(`${t}.${got.body}`).digest();
    assert.ok(!timingSafeEqual(Buffer.from(v1, 'hex'), forged));
  });

  it('does not follow a redirect, even to an allowed address', async () => {
    handler = (_q, res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
      res.end();
    };
    const before = received.length;
    await assert.rejects(
      deliver(`${base}/hook`, { body: '{}', policy: LOOPBACK_OK }),
      /302 .*redirects are not followed/,
    );
    assert.equal(received.length, before + 1, 'one request, no second one to the redirect target');
  });

  it('retries 5xx with backoff and gives up on 4xx at once', async () => {
    let calls = 0;
    handler = (_q, res) => {
      calls++;
      res.statusCode = calls < 3 ? 503 : 200;
      res.end();
    };
    const ok = await deliverWithRetry(`${base}/hook`, { body: '{}', policy: LOOPBACK_OK, backoffMs: 10 });
    assert.equal(ok.attempts, 3);
    calls = 0;
    handler = (_q, res) => {
      calls++;
      res.statusCode = 400;
      res.end('bad payload');
    };
    await assert.rejects(
      deliverWithRetry(`${base}/hook`, { body: '{}', policy: LOOPBACK_OK, backoffMs: 10 }),
      /answered 400: bad payload/,
    );
    assert.equal(calls, 1);
  });

  it('gives up on a target that does not answer within the time limit', async () => {
    handler = () => {}; // never answers
    const t = Date.now();
    await assert.rejects(
      deliver(`${base}/slow`, { body: '{}', policy: LOOPBACK_OK, timeoutMs: 300 }),
      /within 300 ms/,
    );
    assert.ok(Date.now() - t < 3000);
  });
});
