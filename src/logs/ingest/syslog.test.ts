import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { freePort } from '../../testing/nats.js';
import { eventually } from '../../testing/server-process.js';
import { type SyslogOptions, startSyslog, syslogRecord } from './syslog.js';
import { SyslogFramer } from './syslog-framing.js';
import { parseSyslog } from './syslog-message.js';

const enrich = { anonymizeIp: false, pathPatterns: [/\/products?\/(?<product_id>[A-Za-z0-9_-]+)/] };
const ctx = { siteId: 's', source: 'syslog', receivedAt: Date.UTC(2026, 11, 6, 20, 0, 0) };
const record = (text: string, truncatedFrom: number | null = null) =>
  syslogRecord({ text, truncatedFrom }, ctx, enrich);

describe('syslog messages', () => {
  it('reads an RFC 5424 header, structured data with escapes, and the MSG', () => {
    const r = parseSyslog(
      '<165>1 2026-12-06T19:58:01.003Z web1.shop myapp 8710 ID47 [exampleSDID@32473 iut="3" eventSource="App\\"lic\\]ation"][meta seq="1"] \uFEFFAn application event',
    );
    assert.ok(r.ok);
    assert.equal(r.msg.facility, 'local4');
    assert.equal(r.msg.severity, 5);
    assert.equal(r.msg.time, Date.UTC(2026, 11, 6, 19, 58, 1, 3));
    assert.equal(r.msg.hostname, 'web1.shop');
    assert.equal(r.msg.appName, 'myapp');
    assert.equal(r.msg.procId, '8710');
    assert.equal(r.msg.msgId, 'ID47');
    assert.deepEqual(r.msg.structuredData, {
      'exampleSDID@32473': { iut: '3', eventSource: 'App"lic]ation' },
      meta: { seq: '1' },
    });
    assert.equal(r.msg.message, 'An application event');
  });

  it('reads nil values and a message-less RFC 5424 frame', () => {
    const r = parseSyslog('<14>1 - - - - - -');
    assert.ok(r.ok);
    assert.equal(r.msg.time, null);
    assert.equal(r.msg.hostname, null);
    assert.equal(r.msg.message, '');
  });

  it('reads RFC 3164 with the year closest to the receive time', () => {
    const now = new Date(2027, 0, 2, 0, 0, 0).getTime();
    const r = parseSyslog(
      "<34>Dec 31 23:59:58 mymachine su[123]: 'su root' failed for lonvick on /dev/pts/8",
      now,
    );
    assert.ok(r.ok);
    assert.equal(r.msg.facility, 'auth');
    assert.equal(r.msg.severity, 2);
    assert.equal(r.msg.time, new Date(2026, 11, 31, 23, 59, 58).getTime());
    assert.equal(r.msg.hostname, 'mymachine');
    assert.equal(r.msg.appName, 'su');
    assert.equal(r.msg.procId, '123');
    assert.equal(r.msg.message, "'su root' failed for lonvick on /dev/pts/8");
  });

  it('refuses frames that are not syslog, with the reason', () => {
    assert.deepEqual(parseSyslog('hello there'), {
      ok: false,
      reason: 'no <PRI> at the start (not a syslog message)',
    });
    assert.match((parseSyslog('<999>1 - - - - - -') as { reason: string }).reason, /invalid PRI/);
    assert.match(
      (parseSyslog('<13>1 2026-12-06T19:58:01Z h a p m [unclosed x="1"') as { reason: string }).reason,
      /unterminated|not closed/,
    );
    assert.match((parseSyslog('<13>1 yesterday h a p m - x') as { reason: string }).reason, /not RFC 3339/);
  });
});

describe('syslog records', () => {
  it('parses an access log line carried in the MSG; the line wins over the header', () => {
    const r = record(
      '<190>1 2026-12-06T19:58:01Z web1 nginx - - - 203.0.113.9 - - [06/Dec/2026:19:57:59 +0000] "GET /product/42?x=1 HTTP/1.1" 503 120 "-" "curl/8.0"',
    );
    assert.equal(r.parse_error, null);
    assert.equal(r.status, 503);
    assert.equal(r.path, '/product/42');
    assert.equal(r.product_id, '42');
    assert.equal(r.ip, '203.0.113.9');
    assert.equal(r.host, 'web1');
    assert.equal(r.level, 'error');
    assert.equal(r.log_time, Date.UTC(2026, 11, 6, 19, 57, 59));
    assert.deepEqual(JSON.parse(r.fields as string).syslog, {
      protocol: 'rfc5424',
      facility: 'local7',
      severity: 'info',
      app_name: 'nginx',
    });
  });

  it('parses a JSON MSG and keeps the syslog severity as level when the JSON has none', () => {
    const r = record('<11>Dec  6 19:58:01 app1 shop[77]: {"msg":"payment failed","order":"o1"}');
    assert.equal(r.parse_error, null);
    assert.equal(r.message, 'payment failed');
    assert.equal(r.level, 'error');
    assert.equal(r.host, 'app1');
    const fields = JSON.parse(r.fields as string);
    assert.equal(fields.order, 'o1');
    assert.equal(fields.syslog.procid, '77');
  });

  it('reads a TAG without its colon when that lets the MSG parse (rsyslog forwarding Tag="nginx")', () => {
    const r = record(
      '<133>Dec  6 20:19:23 vm nginx 192.0.2.45 - - [06/Dec/2026:20:19:23 +0000] "GET /p HTTP/1.1" 404 345 "-" "curl/8"',
    );
    assert.equal(r.status, 404);
    assert.equal(r.host, 'vm');
    assert.equal(JSON.parse(r.fields as string).syslog.app_name, 'nginx');
    // A plain message keeps its first word.
    assert.equal(record('<13>Dec  6 20:19:23 vm disk almost full').message, 'disk almost full');
  });

  it('keeps a plain message as the message', () => {
    const r = record('<13>1 2026-12-06T19:58:01Z h cron 1 - - job finished in 3 s');
    assert.equal(r.parse_error, null);
    assert.equal(r.message, 'job finished in 3 s');
    assert.equal(r.level, 'notice');
  });

  it('keeps garbage with the reason and flags a cut frame', () => {
    const bad = record('\u0001\u0002 garbage');
    assert.equal(bad.parse_error, 'no <PRI> at the start (not a syslog message)');
    assert.equal(bad.raw, '\u0001\u0002 garbage');
    const cut = record('<13>1 - h a - - - aaaa', 100_000);
    assert.match(cut.parse_error as string, /^truncated: frame of 100000 bytes cut to 22$/);
    assert.equal(cut.message, 'aaaa');
  });
});

describe('TCP framing', () => {
  it('joins octet-counted frames split across packets, and newline frames, on one connection', () => {
    const f = new SyslogFramer(1000);
    const a = '<13>1 - h app - - - first message';
    const b = '<13>1 - h app - - - second\nwith a newline inside';
    const wire = Buffer.from(
      `${Buffer.byteLength(a)} ${a}${Buffer.byteLength(b)} ${b}<14>Dec  6 19:00:00 h x: third\n`,
    );
    const frames: string[] = [];
    for (let i = 0; i < wire.length; i += 7)
      frames.push(...f.push(wire.subarray(i, i + 7)).map((x) => x.text));
    assert.deepEqual(frames, [a, b, '<14>Dec  6 19:00:00 h x: third']);
    assert.deepEqual(f.end(), []);
  });

  it('gives the last frame without a newline at a clean close', () => {
    const f = new SyslogFramer(1000);
    assert.deepEqual(f.push(Buffer.from('<13>a: one\n<13>a: two')), [
      { text: '<13>a: one', truncatedFrom: null },
    ]);
    assert.deepEqual(f.end(), [{ text: '<13>a: two', truncatedFrom: null }]);
  });

  it('cuts oversize frames (both framings) and carries on with the next', () => {
    const f = new SyslogFramer(500);
    const big = `<13>1 - h a - - - ${'x'.repeat(2000)}`;
    const out = [
      ...f.push(Buffer.from(`${big.length} ${big.slice(0, 300)}`)),
      ...f.push(Buffer.from(`${big.slice(300)}${big}\n<13>a: after\n`)),
    ];
    assert.equal(out.length, 3);
    assert.equal(out[0].text.length, 500);
    assert.equal(out[0].truncatedFrom, big.length);
    assert.equal(out[1].text.length, 500);
    assert.equal(out[1].truncatedFrom, big.length);
    assert.equal(out[2].text, '<13>a: after');
  });
});

/** A TCP-only listener on a free loopback port; `o` supplies append and whatever the test varies. */
async function tcpListener(o: Pick<SyslogOptions, 'append'> & Partial<SyslogOptions>) {
  const tcpPort = await freePort();
  const listener = await startSyslog({
    host: '127.0.0.1',
    udpPort: 0,
    tcpPort,
    siteId: 'default',
    source: 'syslog',
    allowNetworks: ['127.0.0.1/32'],
    maxMessageBytes: 8192,
    enrich: { anonymizeIp: false, pathPatterns: [] },
    ...o,
  });
  return { tcpPort, listener };
}

describe('syslog listener shutdown', () => {
  it('stops within its deadline when the stream keeps failing, and says how many messages it gave up', async () => {
    const errors: string[] = [];
    let attempts = 0;
    const { tcpPort, listener } = await tcpListener({
      append: async () => {
        attempts++;
        throw new Error('stream closed');
      },
      onError: (e) => errors.push(e.message),
      stopTimeoutMs: 300,
    });
    const socket = connect(tcpPort, '127.0.0.1');
    socket.end('<13>Dec  6 10:00:00 web1 app: one\n<13>Dec  6 10:00:01 web1 app: two\n');
    await eventually(async () => attempts >= 2, 5000, 20);
    const started = performance.now();
    await listener.stop();
    assert.ok(performance.now() - started < 3000, 'stop() did not wait for the failing stream forever');
    assert.ok(
      errors.some((e) =>
        /^2 syslog messages were not written before shutdown: the stream kept failing/.test(e),
      ),
      errors.join('\n'),
    );
  });
});

describe('syslog TCP connection limit', () => {
  it('closes connections beyond maxConnections at once, counts them, and keeps serving the open ones', async () => {
    const appended: string[] = [];
    const refused: string[] = [];
    const registry = new Registry();
    const { tcpPort, listener } = await tcpListener({
      append: async (records) => {
        appended.push(...records.map((r) => r.message ?? ''));
      },
      onRefused: (_t, _a, reason) => refused.push(reason),
      registry,
      maxConnections: 2,
    });
    const open = async () => {
      const s = connect(tcpPort, '127.0.0.1');
      await once(s, 'connect');
      return s;
    };
    const a = await open();
    const b = await open();
    // Connections are accepted in order, so the server has taken a and b before c.
    const c = await open();
    await once(c, 'close'); // the third is closed by the server
    assert.deepEqual(refused, ['connections']);
    a.end('<13>Dec  6 10:00:00 web1 app: from a\n');
    b.end('<13>Dec  6 10:00:00 web1 app: from b\n');
    await eventually(async () => appended.length === 2, 5000, 20);
    assert.deepEqual(appended.sort(), ['from a', 'from b']);
    assert.match(
      await registry.metrics(),
      /storepulse_syslog_refused_total\{transport="tcp",reason="connections"\} 1\n/,
    );
    await listener.stop();
  });
});
