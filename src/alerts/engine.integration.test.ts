import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { type DemoIncident, generateDemo } from '../demo/generator.js';
import type { CanonicalEvent } from '../events/model.js';
import { fromWire } from '../events/normalise.js';
import { LAKE_TABLES } from '../lake/lake.js';
import { LakeWriter } from '../lake/writer.js';
import { TOPICS } from '../stream/event-log.js';
import { SqliteEventLog } from '../stream/sqlite-log.js';
import { fromCanonical } from './detector-event.js';
import { MemoryBreakdowns } from './detectors/root-cause.js';
import type { MinuteFacts } from './detectors/series.js';
import { DetectionEngine } from './engine.js';
import { DEFAULT_SETTINGS, SiteDetection } from './site-detection.js';
import type { Evaluation } from './types.js';

const T = Date.UTC(2026, 10, 23, 9);
const FLOOD: DemoIncident = {
  id: 'flood-test',
  kind: 'request_flood',
  startMs: T + 12 * 60_000,
  endMs: T + 15 * 60_000,
  description: 'test flood',
  cidr: '185.220.101.0/24',
  ips: ['185.220.101.7', '185.220.101.33', '185.220.101.201'],
};

/** 25 minutes of the demo store with a 3-minute flood, as canonical events (full IPs). */
function demoEvents(
  startMs = T,
  endMs = T + 25 * 60_000,
  eventsPerDay = 400_000,
  incidents = [FLOOD],
): CanonicalEvent[] {
  const out: CanonicalEvent[] = [];
  for (const item of generateDemo({ startMs, endMs, seed: 5, eventsPerDay, incidents, timeFormat: 'ms' })) {
    const t = item.event.time as number;
    const m = fromWire(item.event, {
      siteId: 'demo',
      source: 'demo',
      receivedAt: t + 300,
      ip: item.ip,
      userAgent: item.userAgent,
      salt: 'salt',
      anonymizeIp: false,
      maxFutureMs: 600_000,
      maxPastMs: Number.POSITIVE_INFINITY,
    });
    if (m.ok) out.push(m.value);
  }
  return out;
}

function startRunner(dataDir: string, evaluations: string) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/alerts/engine-runner.ts',
      '--data-dir',
      dataDir,
      '--evaluations',
      evaluations,
      '--now',
      String(T),
      '--history-days',
      '0',
      '--max-batch',
      '100',
      '--checkpoint-ms',
      '50',
      '--idle-advance-ms',
      '0',
      '--anonymized-ips',
      'false',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const progress = { applied: 0, checkpointed: 0 };
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop()!;
    for (const line of lines) {
      const m = /^applied (\d+) checkpointed (\d+)$/.exec(line);
      if (m) Object.assign(progress, { applied: Number(m[1]), checkpointed: Number(m[2]) });
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, progress, exited };
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('detection engine', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('keeps exact per-minute series and offenders across kill -9 during traffic', {
    timeout: 120_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'storepulse-detect-'));
    dirs.push(dataDir);
    const events = demoEvents();
    const log = new SqliteEventLog({ dir: join(dataDir, 'stream'), fsync: false });
    // The runner consumes while the stream grows, so the kills land in the middle of the traffic.
    let appended = 0;
    const appendSome = async (n: number) => {
      const batch = events.slice(appended, appended + n);
      await log.append(
        TOPICS.events,
        batch.map((e) => ({ key: e.event_id, value: JSON.stringify(e) })),
      );
      appended += batch.length;
    };
    await appendSome(2_000);
    const evaluations = join(dataDir, 'evaluations.jsonl');
    let runner = startRunner(dataDir, evaluations);
    children.push(runner.child);
    for (const share of [0.3, 0.6]) {
      const target = Math.floor(events.length * share);
      while (appended < target + 3_000 && appended < events.length) await appendSome(500);
      await until(
        () => runner.progress.applied >= target && runner.progress.checkpointed > 0,
        60_000,
        `position ${target}`,
      );
      runner.child.kill('SIGKILL');
      await runner.exited;
      runner = startRunner(dataDir, evaluations);
      children.push(runner.child);
    }
    while (appended < events.length) await appendSome(1_000);
    await until(() => runner.progress.applied === events.length, 60_000, 'the end of the stream');
    runner.child.kill('SIGTERM');
    await runner.exited;
    await log.close();

    // Reference: the same events through the same detection, without interruption.
    const reference: MinuteFacts[] = [];
    const site = new SiteDetection('demo', () => DEFAULT_SETTINGS, new MemoryBreakdowns(), {
      allowedLatenessMs: 60_000,
      trafficLatenessMs: 5_000,
      retentionMs: 40 * 86_400_000,
      maxCatchUpMinutes: 15,
      anonymizedIps: false,
    });
    site.historyUntil = T;
    const hooks = { emit: () => {}, closed: (f: MinuteFacts) => reference.push(f) };
    for (const e of events) site.ingest(fromCanonical(e), hooks);

    const db = new Database(join(dataDir, 'detect.sqlite'), { readonly: true });
    const saved = db
      .prepare('SELECT minute, vals FROM minutes WHERE site = ? ORDER BY minute')
      .all('demo') as {
      minute: number;
      vals: string;
    }[];
    const breakdowns = new Map(
      (
        db.prepare('SELECT minute, data FROM breakdowns WHERE site = ?').all('demo') as {
          minute: number;
          data: string;
        }[]
      ).map((r) => [r.minute, JSON.parse(r.data)]),
    );
    const state = JSON.parse(
      (db.prepare('SELECT state FROM sites WHERE site = ?').get('demo') as { state: string }).state,
    );
    db.close();
    assert.ok(reference.length >= 20, `${reference.length} minutes closed`);
    assert.deepEqual(
      saved.map((r) => r.minute),
      reference.map((f) => f.minute),
    );
    for (let i = 0; i < reference.length; i++) {
      assert.deepEqual(JSON.parse(saved[i].vals), reference[i].values, `minute ${i}`);
      assert.deepEqual(breakdowns.get(reference[i].minute), reference[i].breakdown);
    }
    // The offenders rebuilt from the stream tail after each kill are those of the uninterrupted run.
    const offenders = (list: { kind: string; key: string; flaggedAt: number }[]) =>
      list.map((o) => `${o.kind}:${o.key}@${o.flaggedAt}`).sort();
    assert.deepEqual(offenders(state.offenders), offenders([...site.offenders.values()]));
    assert.ok(state.offenders.some((o: { key: string }) => o.key === '185.220.101.0/24'));
    // Every minute was evaluated; the flood was flagged right after it began.
    const evals = readFileSync(evaluations, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Evaluation);
    const flood = evals.find((e) => e.signals.some((s) => s.labels.alertname === 'request_flood'));
    assert.ok(flood && flood.at - FLOOD.startMs <= 20_000, `flood flagged at ${flood?.at}`);
  });

  it('calls onEvaluation for every rule each minute and serves offenders and a blocklist', {
    timeout: 60_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'storepulse-detect-'));
    dirs.push(dataDir);
    const log = new SqliteEventLog({ dir: join(dataDir, 'stream'), fsync: false });
    const events = demoEvents();
    await log.append(
      TOPICS.events,
      events.map((e) => ({ value: JSON.stringify(e) })),
    );
    const seen: Evaluation[] = [];
    const engine = new DetectionEngine({
      log,
      dataDir,
      historyDays: 0,
      idleAdvanceMs: 0,
      anonymizedIps: false,
      now: () => T,
      thresholdRules: [{ id: 'busy', metric: 'requests', windowMinutes: 1, op: '>', value: 1000 }],
      onEvaluation: (e) => seen.push(e),
    });
    await engine.start();
    try {
      await until(() => engine.status().position === events.length, 30_000, 'consumption');
      const rules = new Set(seen.map((e) => e.rule));
      assert.deepEqual([...rules].sort(), ['errors', 'order_rate', 'threshold:busy', 'traffic']);
      const minutes = seen.filter((e) => e.rule === 'order_rate').map((e) => e.at);
      assert.ok(minutes.length >= 20 && minutes.every((m, i) => i === 0 || m - minutes[i - 1] === 60_000));
      const busy = seen.filter((e) => e.rule === 'threshold:busy' && e.signals.length > 0);
      assert.ok(
        busy.some((e) => e.at > FLOOD.startMs && e.at <= FLOOD.endMs + 60_000),
        'the flood minutes are busy',
      );
      const offenders = engine.offenders('demo');
      assert.ok(offenders.some((o) => o.kind === 'network' && o.key === '185.220.101.0/24'));
      const nginx = engine.blocklist('demo', 'nginx');
      assert.match(nginx, /^deny 185\.220\.101\.0\/24;/m);
      assert.equal(engine.blocklist('demo', 'plain').split('\n')[0], '185.220.101.0/24');
      assert.equal(engine.status().sites[0].site, 'demo');
    } finally {
      await engine.stop();
      await log.close();
    }
  });

  it('loads weeks of history from the lake on first start and continues with the stream', {
    timeout: 120_000,
  }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'storepulse-detect-'));
    dirs.push(dataDir);
    // Four days of history written straight to the lake, as `storepulse demo --mode backfill` does.
    const history = demoEvents(T - 4 * 86_400_000, T, 30_000, []);
    const writer = await LakeWriter.open(dataDir);
    await writer.write(
      LAKE_TABLES.events,
      history.map((e) => JSON.stringify(e)),
      'demo-history.parquet',
    );
    writer.close();
    const log = new SqliteEventLog({ dir: join(dataDir, 'stream'), fsync: false });
    const live = demoEvents(T, T + 10 * 60_000, 30_000, []);
    await log.append(
      TOPICS.events,
      live.map((e) => ({ value: JSON.stringify(e) })),
    );
    const engine = new DetectionEngine({
      log,
      dataDir,
      historyDays: 7,
      idleAdvanceMs: 0,
      now: () => T,
      onEvaluation: () => {},
    });
    await engine.start();
    try {
      await until(() => engine.status().position === live.length, 30_000, 'consumption');
      const status = engine.status();
      assert.equal(status.streamFrom, T);
      const site = status.sites.find((s) => s.site === 'demo')!;
      assert.ok(site.history!.from <= T - 4 * 86_400_000 + 60_000 && site.history!.to >= T + 8 * 60_000);
      // History minutes hold the lake's counts; stream minutes continue after them.
      const points = engine.points('demo', 'requests', T - 86_400_000, T + 8 * 60_000);
      const lakeCount = history.filter((e) => e.event_time >= T - 86_400_000).length;
      const liveCount = live.filter((e) => e.event_time < T + 8 * 60_000).length;
      assert.equal(
        points.reduce((n, p) => n + (p.value ?? 0), 0),
        lakeCount + liveCount,
      );
      // The same minute on the days before is there to compare with: a daily baseline.
      assert.ok(points.at(-1)!.expected !== null);
    } finally {
      await engine.stop();
      await log.close();
    }
    // A restart does not load the history again, and keeps it.
    const log2 = new SqliteEventLog({ dir: join(dataDir, 'stream'), fsync: false });
    const again = new DetectionEngine({
      log: log2,
      dataDir,
      idleAdvanceMs: 0,
      now: () => T + 3_600_000,
      onEvaluation: () => {},
    });
    await again.start();
    try {
      assert.equal(again.status().streamFrom, T);
      const p = again.points('demo', 'requests', T - 86_400_000, T);
      assert.equal(
        p.reduce((n, x) => n + (x.value ?? 0), 0),
        history.filter((e) => e.event_time >= T - 86_400_000).length,
      );
    } finally {
      await again.stop();
      await log2.close();
    }
  });
});
