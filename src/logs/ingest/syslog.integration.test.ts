import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, type ServerProcess, startServer } from '../../testing/server-process.js';

const hasLogger = spawnSync('logger', ['--help']).status === 0;
const hasRsyslog = spawnSync('rsyslogd', ['-v']).status === 0;

async function freePort(kind: 'tcp' | 'udp'): Promise<number> {
  if (kind === 'tcp') {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const { port } = s.address() as AddressInfo;
    await new Promise((r) => s.close(r));
    return port;
  }
  const u = createSocket('udp4');
  await new Promise<void>((r) => u.bind(0, '127.0.0.1', () => r()));
  const { port } = u.address();
  await new Promise<void>((r) => u.close(() => r()));
  return port;
}

// biome-ignore lint/suspicious/noExplicitAny: the search API returns `fields` as parsed JSON of any shape
type Fields = Record<string, any>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sendUdp(port: number, message: string, from = '127.0.0.1'): Promise<void> {
  const u = createSocket('udp4');
  await new Promise<void>((r) => u.bind(0, from, () => r()));
  await new Promise<void>((r, j) => u.send(message, port, '127.0.0.1', (err) => (err ? j(err) : r())));
  await new Promise<void>((r) => u.close(() => r()));
}

function tcpConnect(port: number, from = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', localAddress: from }, () => resolve(s));
    s.setNoDelay(true);
    s.once('error', reject);
  });
}

const iso = () => new Date().toISOString();
const bsd = () => {
  const d = new Date();
  const mon = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ')[d.getMonth()];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${mon} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};
const clf = () => {
  const d = new Date();
  const m = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ')[d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${m}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
};

/**
 * Syslog into a real server: RFC 5424 and 3164 over real UDP and TCP sockets (octet counting
 * split across packets, newline framing, garbage, an oversize frame, a peer outside
 * allowNetworks) and util-linux `logger` as a real client; the lines are then searched
 * through the log search API.
 */
describe('syslog listeners', () => {
  let server: ServerProcess;
  let udpPort = 0;
  let tcpPort = 0;
  const api = async (path: string) => {
    const res = await fetch(`${server.url}${path}`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
    });
    return (await res.json()) as Record<string, unknown>;
  };
  const total = async (q: string) =>
    (await api(`/api/v1/logs/histogram?q=${encodeURIComponent(q)}`)).total as number;
  const hits = async (q: string) =>
    (await api(`/api/v1/logs/search?q=${encodeURIComponent(q)}&size=10`)).hits as Record<string, unknown>[];

  before(async () => {
    udpPort = await freePort('udp');
    tcpPort = await freePort('tcp');
    server = await startServer({
      env: {
        STOREPULSE_INGEST__ANONYMIZE_IP: 'false',
        STOREPULSE_LOGS__RETENTION_DAYS: '0',
        STOREPULSE_LOGS__SYSLOG__ENABLED: 'true',
        STOREPULSE_LOGS__SYSLOG__UDP_PORT: String(udpPort),
        STOREPULSE_LOGS__SYSLOG__TCP_PORT: String(tcpPort),
        // Only 127.0.0.1: a sender on 127.0.0.2 (also loopback on Linux) stands for a foreign peer.
        STOREPULSE_LOGS__SYSLOG__ALLOW_NETWORKS: '127.0.0.1/32',
        STOREPULSE_LOGS__SYSLOG__MAX_MESSAGE_BYTES: '2048',
      },
    });
  });
  after(() => server?.cleanup());

  it('takes RFC 5424 and RFC 3164 over UDP, parsing an access log line in the MSG', async () => {
    await sendUdp(
      udpPort,
      `<190>1 ${iso()} web1 nginx 311 access [origin ip="10.1.2.3"] 198.51.100.7 - - [${clf()}] "GET /product/777?ref=udp HTTP/1.1" 503 512 "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"`,
    );
    await sendUdp(udpPort, `<35>${bsd()} app2 checkout[42]: zebraudp payment gateway timed out\n`);
    await eventually(async () => (await total('zebraudp')) === 1 && (await total('product_id:777')) === 1);
    const [access] = await hits('product_id:777');
    assert.equal(access.status, 503);
    assert.equal(access.path, '/product/777');
    assert.equal(access.ip, '198.51.100.7');
    assert.equal(access.host, 'web1');
    assert.equal(access.source, 'syslog');
    assert.equal(access.level, 'error');
    assert.equal(access.parse_error, null);
    assert.deepEqual((access.fields as Fields).syslog.structured_data, { origin: { ip: '10.1.2.3' } });
    const [bsdHit] = await hits('zebraudp');
    assert.equal(bsdHit.host, 'app2');
    assert.equal(bsdHit.level, 'error');
    assert.equal(bsdHit.message, 'zebraudp payment gateway timed out');
    assert.equal((bsdHit.fields as Fields).syslog.app_name, 'checkout');
  });

  it('takes TCP octet-counted frames split across packets, newline frames, garbage and an oversize frame', async () => {
    const s = await tcpConnect(tcpPort);
    const frames = [1, 2, 3].map((i) => `<134>1 ${iso()} web2 shop - - - yakcount${i} multi\nline ${i}`);
    const wire = frames.map((f) => `${Buffer.byteLength(f)} ${f}`).join('');
    // Pieces that cut through the length prefix and the message, sent apart.
    for (let i = 0; i < wire.length; i += 11) {
      s.write(wire.slice(i, i + 11));
      await sleep(5);
    }
    s.write(`<14>${bsd()} web2 cron[9]: yaknewline one\n<14>${bsd()} web2 cron[9]: yaknewline two\n`);
    s.write('\u0001garbage yakgarbage no header\n');
    s.write(`<14>1 ${iso()} web2 big - - - yakbig ${'x'.repeat(5000)}\n`);
    // The last frame has no newline: a clean close must still deliver it.
    s.end(`<14>1 ${iso()} web2 shop - - - yaklast without newline`);
    await new Promise((r) => s.once('close', r));
    await eventually(async () => (await total('yaklast')) === 1);
    assert.equal(await total('yakcount1 OR yakcount2 OR yakcount3'), 3);
    const [counted] = await hits('yakcount2');
    assert.equal(counted.message, 'yakcount2 multi\nline 2');
    assert.equal(counted.parse_error, null);
    assert.equal(await total('yaknewline'), 2);
    const [garbage] = await hits('yakgarbage');
    assert.equal(garbage.parse_error, 'no <PRI> at the start (not a syslog message)');
    const [big] = await hits('yakbig');
    assert.match(big.parse_error as string, /^truncated: frame of 50\d\d bytes cut to 2048$/);
    assert.equal((big.raw as string).length, 2048);
  });

  it('refuses peers outside allowNetworks over UDP and TCP', async () => {
    await sendUdp(udpPort, `<14>1 ${iso()} evil x - - - quokkarefused udp`, '127.0.0.2');
    const s = await tcpConnect(tcpPort, '127.0.0.2');
    s.on('error', () => {});
    s.write(`<14>1 ${iso()} evil x - - - quokkarefused tcp\n`);
    await new Promise((r) => s.once('close', r));
    // A message from an allowed peer sent afterwards arrives; the refused ones never do.
    await sendUdp(udpPort, `<14>1 ${iso()} good x - - - quokkaallowed`);
    await eventually(async () => (await total('quokkaallowed')) === 1);
    assert.equal(await total('quokkarefused'), 0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /storepulse_syslog_refused_total\{transport="udp",reason="network"\} 1\n/);
    assert.match(metrics, /storepulse_syslog_refused_total\{transport="tcp",reason="network"\} 1\n/);
    assert.match(metrics, /storepulse_syslog_messages_total\{transport="tcp",result="unparsed"\} 2\n/);
  });

  it('takes messages from util-linux logger over UDP and TCP', {
    skip: hasLogger ? false : 'logger (util-linux) is not installed',
  }, async () => {
    const run = (args: string[]) => {
      const r = spawnSync('logger', ['--server', '127.0.0.1', ...args], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    run([
      '--port',
      String(tcpPort),
      '--tcp',
      '--rfc5424',
      '--octet-count',
      '--tag',
      'shop',
      '--sd-id',
      'order@32473',
      '--sd-param',
      'id="o17"',
      'loggertcp order placed',
    ]);
    run(['--port', String(tcpPort), '--tcp', '--rfc3164', '--tag', 'shop', 'loggertcpbsd newline framed']);
    run([
      '--port',
      String(udpPort),
      '--udp',
      '--rfc5424',
      '--priority',
      'local3.err',
      'loggerudp disk almost full',
    ]);
    run(['--port', String(udpPort), '--udp', '--rfc3164', 'loggerudpbsd old style']);
    await eventually(
      async () => (await total('loggertcp OR loggertcpbsd OR loggerudp OR loggerudpbsd')) === 4,
    );
    const [tcp] = await hits('loggertcp');
    assert.equal(tcp.parse_error, null);
    assert.equal(tcp.message, 'loggertcp order placed');
    const sd = (tcp.fields as Fields).syslog;
    assert.equal(sd.app_name, 'shop');
    assert.deepEqual(sd.structured_data['order@32473'], { id: 'o17' });
    const [udp] = await hits('loggerudp');
    assert.equal(udp.level, 'error');
    assert.equal((udp.fields as Fields).syslog.facility, 'local3');
    assert.equal(
      await total('parse_error:* AND (loggertcp OR loggertcpbsd OR loggerudp OR loggerudpbsd)'),
      0,
    );
  });

  it('takes an rsyslog forwarder (omfwd, TCP octet-counted RFC 5424 and UDP RFC 3164)', {
    skip: hasRsyslog ? false : 'rsyslogd is not installed',
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sp-omfwd-'));
    const logFile = join(dir, 'access.log');
    mkdirSync(join(dir, 'work'));
    writeFileSync(logFile, '');
    writeFileSync(
      join(dir, 'rsyslog.conf'),
      `global(workDirectory="${dir}/work")
module(load="imfile" mode="polling" PollingInterval="1")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="${tcpPort}" protocol="tcp" TCP_Framing="octet-counted"
         template="RSYSLOG_SyslogProtocol23Format" action.resumeRetryCount="-1" action.resumeInterval="1")
  action(type="omfwd" target="127.0.0.1" port="${udpPort}" protocol="udp" template="RSYSLOG_TraditionalForwardFormat")
}
input(type="imfile" File="${logFile}" Tag="nginx" ruleset="fwd" freshStartTail="off")
`,
    );
    const rsyslog = spawn('rsyslogd', [
      '-n',
      '-f',
      join(dir, 'rsyslog.conf'),
      '-i',
      join(dir, 'rsyslog.pid'),
    ]);
    let out = '';
    rsyslog.stdout?.on('data', (d) => (out += d));
    rsyslog.stderr?.on('data', (d) => (out += d));
    try {
      const lines = Array.from(
        { length: 50 },
        (_, i) =>
          `192.0.2.${i} - - [${clf()}] "GET /product/omfwd${i % 5} HTTP/1.1" ${i % 10 === 0 ? 500 : 200} ${300 + i} "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"`,
      );
      appendFileSync(logFile, `${lines.join('\n')}\n`);
      // Each line arrives twice: once over TCP (RFC 5424), once over UDP (RFC 3164).
      await eventually(async () => (await total('path:/product/omfwd*')) === 100, 30_000, 500).catch(
        async (err) => {
          const seen = await hits('omfwd0');
          throw new Error(
            `${(err as Error).message}; rsyslogd said:\n${out}\nseen: ${JSON.stringify(seen.map((h) => [h.raw, h.path, h.parse_error]))}`,
          );
        },
      );
      assert.equal(await total('path:/product/omfwd* AND status:500'), 10);
      assert.equal(await total('path:/product/omfwd* AND parse_error:*'), 0);
      const protocols = (await hits('path:/product/omfwd0 AND ip:192.0.2.0')).map(
        (h) => (h.fields as Fields).syslog.protocol,
      );
      assert.deepEqual(protocols.sort(), ['rfc3164', 'rfc5424']);
    } finally {
      rsyslog.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
