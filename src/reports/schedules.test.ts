import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openMetaDb } from '../meta/meta-db.js';
import { nextRun, periodOf, ReportSchedules } from './schedules.js';
import { renderSummary } from './summary.js';
import type { ReportAnswer } from './types.js';

const T = (iso: string) => Date.parse(iso);

describe('schedule times', () => {
  it('daily: the next send hour strictly after now', () => {
    const s = { cadence: 'daily', hour: 7, weekday: null } as const;
    assert.equal(nextRun(s, T('2026-12-02T06:59:00Z')), T('2026-12-02T07:00:00Z'));
    assert.equal(nextRun(s, T('2026-12-02T07:00:00Z')), T('2026-12-03T07:00:00Z'));
  });

  it('weekly: the next matching weekday (Monday = 1)', () => {
    const s = { cadence: 'weekly', hour: 8, weekday: 1 } as const;
    // 2026-12-02 is a Wednesday.
    assert.equal(nextRun(s, T('2026-12-02T12:00:00Z')), T('2026-12-07T08:00:00Z'));
  });

  it('reports on the whole UTC days before the send', () => {
    assert.deepEqual(periodOf('daily', T('2026-12-02T07:00:00Z')), { from: '2026-12-01', to: '2026-12-02' });
    assert.deepEqual(periodOf('weekly', T('2026-12-07T08:00:00Z')), { from: '2026-11-30', to: '2026-12-07' });
  });
});

describe('schedule store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'storepulse-sched-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const db = openMetaDb(dir);
  const store = new ReportSchedules(db);
  const input = {
    site: 'shop',
    report: 'revenue',
    params: { bots: 'exclude' },
    cadence: 'daily',
    hour: 6,
    weekday: null,
    channel: 'webhook',
    target: 'https://hooks.example.com/x',
  } as const;

  it('gives a webhook a signing secret once, and due() finds it at its time', () => {
    const now = T('2026-12-02T05:00:00Z');
    const { schedule, secret } = store.create(input, 'ana@example.com', now);
    assert.ok(secret && secret.length >= 32);
    assert.equal(store.secretOf(schedule.id), secret);
    assert.equal(store.get(schedule.id)?.nextRunAt, T('2026-12-02T06:00:00Z'));
    assert.equal(store.due(T('2026-12-02T05:59:59Z')).length, 0);
    assert.deepEqual(
      store.due(T('2026-12-02T06:00:00Z')).map((s) => s.id),
      [schedule.id],
    );
  });

  it('a failure is recorded and retried with growing backoff; a success resets it', () => {
    const [s] = store.list('shop');
    const at = T('2026-12-02T06:00:00Z');
    store.failed(s.id, at, 'connection refused');
    let got = store.get(s.id)!;
    assert.equal(got.lastStatus, 'failed');
    assert.equal(got.lastError, 'connection refused');
    assert.equal(got.nextRunAt, at + 60_000);
    store.failed(s.id, at + 60_000, 'connection refused');
    got = store.get(s.id)!;
    assert.equal(got.nextRunAt, at + 60_000 + 120_000);
    store.sent(s.id, at + 200_000);
    got = store.get(s.id)!;
    assert.equal(got.failures, 0);
    assert.equal(got.lastStatus, 'sent');
    assert.equal(got.nextRunAt, T('2026-12-03T06:00:00Z'));
  });
});

describe('report summary', () => {
  const answer: ReportAnswer = {
    report: 'brand-marketing',
    site: 'shop',
    params: { from: '2026-11-01', to: '2026-12-01' },
    columns: [
      { name: 'brand', label: 'Brand', type: 'string' },
      { name: 'revenue', label: 'Revenue', type: 'money' },
      { name: 'view_to_cart', label: 'View → cart', type: 'ratio' },
    ],
    rows: [
      { brand: '<img src=x onerror=alert(1)>', revenue: 1234.5, view_to_cart: 0.1234 },
      { brand: '=HYPERLINK("http://evil")', revenue: 1, view_to_cart: null },
      { brand: 'a, "quoted"\nname', revenue: 0, view_to_cart: 0 },
    ],
    rule: 'Flag brands with <b>views</b> ≥ 100',
    elapsedMs: 5,
  };

  it('escapes every value in the HTML summary', () => {
    const s = renderSummary(answer, { title: 'Brands', from: '2026-11-01', to: '2026-12-01' });
    assert.ok(!s.html.includes('<img'), 'no live img tag');
    assert.ok(s.html.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(s.html.includes('&lt;b&gt;views&lt;/b&gt;'));
    assert.ok(s.html.includes('1,234.50') && s.html.includes('12.3%'));
    assert.match(s.subject, /Brands for shop, 2026-11-01 – 2026-12-01/);
  });
});
