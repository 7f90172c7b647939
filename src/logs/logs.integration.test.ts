import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Client } from '@opensearch-project/opensearch';
import { eventually, runCli, type ServerProcess, sql, startServer } from '../testing/server-process.js';

const APACHE_LOG = new URL('../../test-data/apache_logs', import.meta.url).pathname;

/**
 * Log analytics against a real server: lines over HTTP and documents from the official
 * OpenSearch client's bulk helper become searchable and land in the lake; query mistakes are
 * 400s with a position; `storepulse import --format apache` loads history once.
 */
describe('logs over HTTP', () => {
  let server: ServerProcess;
  const api = async (path: string) => {
    const res = await fetch(`${server.url}${path}`, {
      headers: { authorization: `Bearer ${server.apiKey}` },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const total = async (q: string) =>
    (await api(`/api/v1/logs/histogram?q=${encodeURIComponent(q)}`)).body.total as number;

  before(async () => {
    server = await startServer({
      env: {
        STOREPULSE_INGEST__ANONYMIZE_IP: 'false',
        STOREPULSE_LOGS__RETENTION_DAYS: '0',
        STOREPULSE_LAKE__FLUSH_INTERVAL_MS: '200',
      },
    });
  });
  after(() => server?.cleanup());

  it('takes raw Apache lines and makes them searchable, and writes the lake', async () => {
    const res = await fetch(`${server.url}/api/v1/logs/lines?format=apache&source=apache`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.writeKey}`, 'content-type': 'text/plain' },
      body: readFileSync(APACHE_LOG),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { accepted: 10_000, unparsed: 0 });
    await eventually(async () => (await total('')) === 10_000, 30_000);
    const awk = (prog: string) => Number(execFileSync('awk', [prog, APACHE_LOG], { encoding: 'utf8' }));
    assert.equal(await total('status:404'), awk('$9 == 404 { n++ } END { print n }'));
    const page = await api('/api/v1/logs/search?q=status:500&size=2');
    assert.equal((page.body.hits as { status: number }[]).length, 2);
    const fields = (await api('/api/v1/logs/fields?q=')).body as {
      status: { value: number; count: number }[];
    };
    assert.deepEqual(fields.status[0], { value: 200, count: 9126 });
    await eventually(async () => {
      const rows = await sql(server, 'SELECT count(*)::INT AS n FROM logs');
      return rows[0].n === 10_000;
    }, 30_000);
  });

  it('answers a malformed query with 400 and the position', async () => {
    const r = await api(`/api/v1/logs/search?q=${encodeURIComponent('status:500 AND (kibana')}`);
    assert.equal(r.status, 400);
    assert.match(r.body.error as string, /never closed/);
    assert.deepEqual(r.body.details, { position: 15 });
    const unknown = await api(`/api/v1/logs/search?q=${encodeURIComponent('colour:red')}`);
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error as string, /unknown field "colour"/);
  });

  it('accepts documents from the OpenSearch client bulk helper', async () => {
    const client = new Client({ node: server.url, auth: { username: server.writeKey, password: 'x' } });
    const info = await client.info();
    assert.equal(info.body.tagline, 'You Know, for Search');
    const now = Date.now();
    const docs = Array.from({ length: 500 }, (_, i) => ({
      '@timestamp': new Date(now - i * 1000).toISOString(),
      log: { level: i % 50 === 0 ? 'ERROR' : 'INFO' },
      message: i % 50 === 0 ? `payment failed for order o${i}` : `request handled in ${i} ms`,
      http: { response: { status_code: i % 50 === 0 ? 502 : 200 } },
      url: { path: `/product/${1000 + (i % 7)}` },
    }));
    const result = await client.helpers.bulk({
      datasource: docs,
      onDocument: () => ({ index: { _index: 'shop-app' } }),
    });
    assert.equal(result.successful, 500);
    assert.equal(result.failed, 0);
    await eventually(async () => (await total('source:shop-app')) === 500, 15_000);
    assert.equal(await total('"payment failed" AND level:error AND status:502'), 10);
    assert.equal(
      await total('product_id:1003 AND source:shop-app'),
      docs.filter((d) => d.url.path.endsWith('1003')).length,
    );
    // A wrong key is refused.
    const bad = await fetch(`${server.url}/_bulk`, {
      method: 'POST',
      headers: { authorization: 'Bearer nope-nope-nope-nope', 'content-type': 'application/x-ndjson' },
      body: '{"index":{}}\n{"message":"x"}\n',
    });
    assert.equal(bad.status, 401);
  });

  it('imports a log file once with `storepulse import --format apache`', async () => {
    const env = { STOREPULSE_INGEST__ANONYMIZE_IP: 'false', STOREPULSE_LOGS__RETENTION_DAYS: '0' };
    const first = await runCli(['import', APACHE_LOG, '--format', 'apache', '--no-progress'], {
      dataDir: server.dataDir,
      env,
    });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /imported 10,000 log lines .* 10,000 newly searchable/);
    const again = await runCli(['import', APACHE_LOG, '--format', 'apache', '--no-progress'], {
      dataDir: server.dataDir,
      env,
    });
    assert.match(again.stdout, / 0 newly searchable/);
    assert.equal(await total('source:apache_logs'), 10_000);
  });
});
