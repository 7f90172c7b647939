import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CLI,
  eventually,
  runCli,
  type ServerProcess,
  sql,
  startServer,
} from '../../testing/server-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const clf = () => {
  const d = new Date();
  const m = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ')[d.getUTCMonth()];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${m}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
};
/** `n` distinct access log lines (each path is unique), newline-terminated. */
const lines = (tag: string, from: number, n: number) =>
  Array.from(
    { length: n },
    (_, i) =>
      `203.0.113.${(from + i) % 250} - - [${clf()}] "GET /t/${tag}/${from + i} HTTP/1.1" ${(from + i) % 20 === 0 ? 500 : 200} ${100 + i} "-" "curl/8.5.0"\n`,
  ).join('');

/**
 * `storepulse logs tail` as a separate process against a real server: appends, a held partial
 * line, rename and copytruncate rotation, kill -9 of the tail process and a restart, and the
 * server going away and coming back. Every line must arrive exactly once (counted in the lake).
 */
describe('storepulse logs tail', () => {
  let server: ServerProcess;
  const dir = mkdtempSync(join(tmpdir(), 'sp-tail-'));
  const tails: ChildProcess[] = [];

  const total = async (q: string) => {
    const res = await fetch(`${server.url}/api/v1/logs/histogram?q=${encodeURIComponent(q)}`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
    });
    return ((await res.json()) as { total: number }).total;
  };
  /** Rows and distinct lines of a source in the lake: equal counts mean no duplicates. */
  const lake = async (source: string) =>
    (
      await sql(
        server,
        `SELECT count(*)::INT AS n, count(DISTINCT raw)::INT AS d FROM logs WHERE source = '${source}'`,
      )
    )[0] as { n: number; d: number };
  const exactlyOnce = async (source: string, n: number) => {
    await eventually(async () => (await total(`source:${source}`)) >= n, 30_000);
    await eventually(async () => (await lake(source)).n >= n, 30_000);
    await sleep(700); // anything extra (a duplicate) would show up by now
    assert.equal(await total(`source:${source}`), n);
    assert.deepEqual(await lake(source), { n, d: n });
  };

  const startTail = (file: string, state: string, extra: string[] = []) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        '-d',
        dir,
        'logs',
        'tail',
        file,
        '--url',
        server.url,
        '--format',
        'apache',
        '--state',
        state,
        ...extra,
      ],
      { env: { ...process.env, STOREPULSE_KEY: server.writeKey } },
    );
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (out += d));
    tails.push(child);
    return { child, output: () => out };
  };
  const kill9 = (child: ChildProcess) =>
    new Promise<void>((r) => {
      child.once('exit', () => r());
      child.kill('SIGKILL');
    });

  before(async () => {
    server = await startServer({
      env: {
        STOREPULSE_INGEST__ANONYMIZE_IP: 'false',
        STOREPULSE_LOGS__RETENTION_DAYS: '0',
        STOREPULSE_LAKE__FLUSH_INTERVAL_MS: '200',
        STOREPULSE_STREAM__FSYNC: 'false',
      },
    });
  });
  after(() => {
    for (const t of tails) if (t.exitCode === null && !t.signalCode) t.kill('SIGKILL');
    server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('needs a key, and --help says what it does', async () => {
    const help = await runCli(['logs', 'tail', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /tail -F/);
    const noKey = await runCli(['logs', 'tail', join(dir, 'x')], {
      dataDir: dir,
      env: { STOREPULSE_KEY: '' },
    });
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /write key: pass --key or set STOREPULSE_KEY/);
    const badKey = await runCli(
      ['logs', 'tail', '--once', '--key', 'wrong-key-wrong-key', '--url', server.url, join(dir, 'bad')],
      { dataDir: dir, input: '' },
    );
    // The file does not exist: nothing to send, so even a wrong key exits cleanly with --once.
    assert.equal(badKey.code, 0, badKey.stderr);
    appendFileSync(join(dir, 'bad'), lines('bad', 0, 1));
    const refused = await runCli(
      [
        'logs',
        'tail',
        '--once',
        '--key',
        'wrong-key-wrong-key',
        '--url',
        server.url,
        join(dir, 'bad'),
        '--state',
        join(dir, 'bad.state'),
      ],
      { dataDir: dir },
    );
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /HTTP 401.*write key/);
  });

  it('follows appends, holds a partial line, and follows rename and copytruncate rotation', async () => {
    const file = join(dir, 'web');
    appendFileSync(file, lines('web', 0, 50));
    const tail = startTail(file, join(dir, 'web.state'));
    await eventually(async () => (await total('source:web')) === 50, 30_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${tail.output()}`);
    });

    // A line still being written (no newline yet) is held until it is complete.
    appendFileSync(file, lines('web', 50, 1).replace('\n', '').slice(0, 40));
    await sleep(1500);
    assert.equal(await total('source:web'), 50);
    appendFileSync(file, `${lines('web', 50, 1).slice(40)}`);
    await eventually(async () => (await total('source:web')) === 51);
    assert.equal(await total('path:"/t/web/50"'), 1);

    // Rename rotation: the writer still has the old file open and writes to it, then reopens.
    const writer = openSync(file, 'a');
    renameSync(file, `${file}.1`);
    writeSync(writer, lines('web', 51, 20));
    await sleep(300);
    appendFileSync(file, lines('web', 71, 30));
    writeSync(writer, lines('web', 101, 5)); // late lines into the old file
    closeSync(writer);
    await eventually(async () => (await total('source:web')) === 106, 30_000);

    // copytruncate: the file is copied away and cut to zero, then written again.
    copyFileSync(file, `${file}.2`);
    truncateSync(file, 0);
    await sleep(100);
    appendFileSync(file, lines('web', 106, 10));
    await exactlyOnce('web', 116);
    assert.match(tail.output(), /rotated/);
    assert.match(tail.output(), /truncated/);
  });

  it('stops on SIGTERM and, restarted, finishes a file that was rotated meanwhile', async () => {
    const file = join(dir, 'app');
    const state = join(dir, 'app.state');
    appendFileSync(file, lines('app', 0, 40));
    const first = startTail(file, state);
    await eventually(async () => (await total('source:app')) === 40, 30_000);
    const exited = new Promise<number | null>((r) => first.child.once('exit', (code) => r(code)));
    first.child.kill('SIGTERM');
    assert.equal(await exited, 0, first.output());
    assert.match(first.output(), /sent 40 lines in 1 batch/);
    // While stopped: more lines in the old file, then it is renamed and a new one started.
    appendFileSync(file, lines('app', 40, 15));
    renameSync(file, `${file}.1`);
    appendFileSync(file, lines('app', 55, 25));
    const second = startTail(file, state);
    await exactlyOnce('app', 80);
    assert.match(second.output(), /rotated while stopped; finishing .*app\.1 first/);
  });

  it('stores a line resent with the same id and offset once', async () => {
    const send = async () => {
      const res = await fetch(
        `${server.url}/api/v1/logs/lines?format=apache&source=resent&id=f1&offset=4096`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${server.writeKey}`, 'content-type': 'text/plain' },
          body: lines('resent', 0, 5),
        },
      );
      return res.json();
    };
    assert.deepEqual(await send(), { accepted: 5, duplicates: 0, unparsed: 0 });
    assert.deepEqual(await send(), { accepted: 5, duplicates: 5, unparsed: 0 });
    await exactlyOnce('resent', 5);
  });

  it('resumes after kill -9 without losing or repeating a line', async (t) => {
    const file = join(dir, 'burst');
    const state = join(dir, 'burst.state');
    const N = 20_000;
    let written = 0;
    const writing = (async () => {
      while (written < N) {
        appendFileSync(file, lines('burst', written, 250));
        written += 250;
        await sleep(15);
      }
    })();
    let tail = startTail(file, state, ['--batch-lines', '100']);
    const runs = [tail];
    for (const seen of [2_000, 8_000]) {
      await eventually(async () => (await total('source:burst')) >= seen, 60_000);
      await kill9(tail.child); // mid-stream: batches in flight, lines still being written
      await sleep(200);
      tail = startTail(file, state, ['--batch-lines', '100']);
      runs.push(tail);
    }
    await writing;
    await exactlyOnce('burst', N);
    const resent = [
      ...runs
        .map((r) => r.output())
        .join('')
        .matchAll(/(\d+) line\(s\) of .* had already arrived/g),
    ];
    t.diagnostic(
      `lines resent after the kills and stored once: ${resent.map((m) => m[1]).join(', ') || 'none'}`,
    );
  });

  it('keeps retrying while the server is down and sends everything when it is back', async () => {
    const file = join(dir, 'outage');
    appendFileSync(file, lines('outage', 0, 10));
    const tail = startTail(file, join(dir, 'outage.state'));
    await eventually(async () => (await total('source:outage')) === 10, 30_000);
    await server.stop();
    appendFileSync(file, lines('outage', 10, 300));
    await eventually(async () => /cannot send to .*ECONNREFUSED.*retrying/.test(tail.output()), 15_000);
    await sleep(1000);
    await server.restart();
    await exactlyOnce('outage', 310);
    assert.match(tail.output(), /sending to .* again/);
  });
});
