import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { compilePathPatterns, createLineParser, DEFAULT_PATH_PATTERNS } from './line-parser.js';

const APACHE_LOG = new URL('../../../test-data/apache_logs', import.meta.url).pathname;
const ctx = { siteId: 's1', source: 'test', receivedAt: Date.UTC(2024, 0, 1) };
const enrich = { anonymizeIp: false, pathPatterns: compilePathPatterns(DEFAULT_PATH_PATTERNS) };

/** Counts computed by awk over the raw file, independently of the parser. */
function awkCounts(field: number): Map<string, number> {
  const out = execFileSync('awk', [`{ c[$${field}]++ } END { for (k in c) print c[k], k }`, APACHE_LOG], {
    encoding: 'utf8',
  });
  return new Map(
    out
      .trim()
      .split('\n')
      .map((l) => {
        const [n, k] = l.split(' ');
        return [k, Number(n)];
      }),
  );
}

describe('access log parsing', () => {
  const lines = readFileSync(APACHE_LOG, 'utf8').split('\n').filter(Boolean);
  const parser = createLineParser('apache', enrich);
  const records = lines.map((l) => parser.line(l, ctx));

  it('parses every line of the real Apache log', () => {
    assert.equal(records.length, 10_000);
    const failed = records.filter((r) => r.parse_error);
    assert.deepEqual(failed, []);
  });

  it('counts per status code match an independent awk count', () => {
    const mine = new Map<string, number>();
    for (const r of records) mine.set(String(r.status), (mine.get(String(r.status)) ?? 0) + 1);
    assert.deepEqual(mine, awkCounts(9));
    assert.equal(mine.get('200'), 9126);
  });

  it('top client IPs match an independent awk count', () => {
    const top = (m: Map<string, number>) =>
      [...m]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 10)
        .map((e) => e.join(' '));
    const mine = new Map<string, number>();
    for (const r of records) mine.set(r.ip as string, (mine.get(r.ip as string) ?? 0) + 1);
    assert.deepEqual(top(mine), top(awkCounts(1)));
    assert.equal(mine.size, 1753);
  });

  it('extracts each field of a line', () => {
    const r = records[0];
    assert.equal(r.ip, '83.149.9.216');
    assert.equal(r.log_time, Date.UTC(2015, 4, 17, 10, 5, 3));
    assert.equal(r.method, 'GET');
    assert.equal(r.path, '/presentations/logstash-monitorama-2013/images/kibana-search.png');
    assert.equal(r.protocol, 'HTTP/1.1');
    assert.equal(r.bytes, 203023);
    assert.equal(r.referrer, 'http://semicomplete.com/presentations/logstash-monitorama-2013/');
    assert.equal(r.browser, 'Chrome');
    assert.equal(r.os, 'Mac OS');
    assert.equal(r.is_bot, false);
    // bytes "-" is no bytes; the crawlers are flagged.
    const dashes = execFileSync('awk', ['$10 == "-" { n++ } END { print n }', APACHE_LOG], {
      encoding: 'utf8',
    });
    assert.equal(records.filter((x) => x.bytes === null).length, Number(dashes));
    assert.ok(records.filter((x) => x.is_bot).length > 1000);
    // Line 8899 is cut inside its user agent: parsed, and marked.
    const cut = records[8898];
    assert.equal(cut.status, 200);
    assert.equal(JSON.parse(cut.fields as string).truncated, true);
    assert.match(cut.user_agent as string, /^Mozilla\/5.0 \(compatible; Googlebot/);
    const withQuery = records.find((x) => x.query);
    assert.ok(withQuery && !withQuery.path?.includes('?'));
  });
});

describe('other formats', () => {
  it('parses a configured nginx log_format with request time, and anonymises the IP', () => {
    const p = createLineParser(
      '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time "$host"',
      { ...enrich, anonymizeIp: true },
    );
    const r = p.line(
      '203.0.113.9 - bob [01/Feb/2024:13:00:01 +0100] "GET /product/1234?ref=x HTTP/2.0" 502 17 "-" "curl/8.0" 0.250 "shop.example"',
      ctx,
    );
    assert.equal(r.parse_error, null);
    assert.equal(r.ip, '203.0.113.0');
    assert.ok(!r.raw.includes('203.0.113.9') && r.raw.startsWith('203.0.113.0 - bob'));
    assert.equal(r.log_time, Date.UTC(2024, 1, 1, 12, 0, 1));
    assert.equal(r.status, 502);
    assert.equal(r.response_time_ms, 250);
    assert.equal(r.host, 'shop.example');
    assert.equal(r.product_id, '1234');
    assert.equal(r.query, 'ref=x');
    assert.equal(r.referrer, null);
    assert.equal(r.level, 'error');
  });

  it('parses JSON lines and key=value lines', () => {
    const j = createLineParser('jsonl', enrich).line(
      '{"@timestamp":"2024-03-01T10:00:00Z","log":{"level":"ERROR"},"message":"payment failed","http":{"response":{"status_code":503}},"order":"o1"}',
      ctx,
    );
    assert.equal(j.log_time, Date.UTC(2024, 2, 1, 10));
    assert.equal(j.level, 'error');
    assert.equal(j.message, 'payment failed');
    assert.equal(j.status, 503);
    assert.deepEqual(JSON.parse(j.fields as string), { order: 'o1' });
    const kv = createLineParser('kv', enrich).line(
      'ts=2024-03-01T10:00:00Z level=warn msg="slow query" duration=1.5 path=/category/77/x',
      ctx,
    );
    assert.equal(kv.message, 'slow query');
    assert.equal(kv.response_time_ms, 1500);
    assert.equal(kv.category_id, '77');
  });

  it('keeps a line it cannot parse, with the reason', () => {
    const r = createLineParser('apache', enrich).line('garbage here', ctx);
    assert.match(r.parse_error as string, /does not match the log format/);
    assert.equal(r.raw, 'garbage here');
    assert.equal(r.message, 'garbage here');
    assert.equal(r.log_time, ctx.receivedAt);
    assert.match(
      createLineParser('jsonl', enrich).line('{"a":', ctx).parse_error as string,
      /malformed JSON/,
    );
  });

  it('rejects a path pattern without a named group', () => {
    assert.throws(() => compilePathPatterns(['/p/(\\d+)']), /logs.pathPatterns\[0\].*no \(\?<product_id>/);
  });
});
