import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, type ServerProcess, startServer } from '../testing/server-process.js';

const hasRsyslog = spawnSync('rsyslogd', ['-v']).status === 0;

/**
 * A real shipper: rsyslog (Debian `rsyslog` + `rsyslog-elasticsearch`) tails an nginx access
 * log with imfile and ships it with omelasticsearch's bulk mode to storepulse, unchanged
 * except for the server address and the write key as the Basic auth user.
 */
describe('rsyslog omelasticsearch → storepulse', {
  skip: hasRsyslog ? false : 'rsyslogd is not installed (apt-get install rsyslog rsyslog-elasticsearch)',
}, () => {
  let server: ServerProcess;
  let rsyslog: ChildProcess | null = null;
  let out = '';
  const dir = mkdtempSync(join(tmpdir(), 'sp-rsyslog-'));
  const logFile = join(dir, 'access.log');

  before(async () => {
    server = await startServer({ env: { STOREPULSE_INGEST__ANONYMIZE_IP: 'false' } });
    mkdirSync(join(dir, 'work'));
    writeFileSync(logFile, '');
    const port = new URL(server.url).port;
    writeFileSync(
      join(dir, 'rsyslog.conf'),
      `global(workDirectory="${dir}/work")
module(load="imfile" mode="polling" PollingInterval="1")
module(load="omelasticsearch")
template(name="doc" type="list" option.jsonf="on") {
  property(outname="@timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="message" name="msg" format="jsonf")
}
ruleset(name="ship") {
  action(type="omelasticsearch" server="127.0.0.1" serverport="${port}" searchIndex="nginx-access"
         template="doc" bulkmode="on" uid="${server.writeKey}" pwd="unused" esVersion.major="8"
         action.resumeRetryCount="-1" action.resumeInterval="1")
}
input(type="imfile" File="${logFile}" Tag="nginx:" ruleset="ship" freshStartTail="off")
`,
    );
    rsyslog = spawn('rsyslogd', ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslog.pid')]);
    rsyslog.stdout?.on('data', (d) => (out += d));
    rsyslog.stderr?.on('data', (d) => (out += d));
  });
  after(() => {
    rsyslog?.kill('SIGTERM');
    server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ships appended access log lines, which become searchable', async () => {
    const clf = (d: Date) => {
      const m = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ')[d.getUTCMonth()];
      const p = (n: number) => String(n).padStart(2, '0');
      return `${p(d.getUTCDate())}/${m}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
    };
    const now = new Date();
    const lines = Array.from(
      { length: 200 },
      (_, i) =>
        `198.51.100.${i % 20} - - [${clf(now)}] "GET /product/${i % 10}?q=${i} HTTP/1.1" ${i % 25 === 0 ? 503 : 200} ${100 + i} "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"`,
    );
    appendFileSync(logFile, `${lines.join('\n')}\n`);
    const total = async (q: string) => {
      const res = await fetch(`${server.url}/api/v1/logs/histogram?q=${encodeURIComponent(q)}`, {
        headers: { authorization: `Bearer ${server.apiKey}` },
      });
      return ((await res.json()) as { total: number }).total;
    };
    await eventually(async () => (await total('source:nginx-access')) === 200, 30_000, 500).catch((err) => {
      throw new Error(`${(err as Error).message}; rsyslogd said:\n${out}\nserver:\n${server.output()}`);
    });
    assert.equal(await total('source:nginx-access AND status:503'), 8);
    assert.equal(await total('product_id:3 AND ip:198.51.100.3'), 10);
    assert.equal(await total('parse_error:*'), 0);
  });
});
