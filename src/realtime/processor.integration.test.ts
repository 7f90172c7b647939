import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '../demo/prng.js';
import type { CanonicalEvent } from '../events/model.js';
import { TOPICS } from '../stream/event-log.js';
import { SqliteEventLog } from '../stream/sqlite-log.js';
import { eventually } from '../testing/server-process.js';
import { CheckpointStore } from './checkpoint-store.js';
import { RealtimeProcessor } from './processor.js';
import { BOT_UA, T0, testEvent } from './test-events.js';
import { MINUTE } from './windows.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const RUNNER = join(here, 'processor-runner.ts');
const N = 36_000;
const SPAN = 10 * MINUTE;
const LATENESS = 60_000;

/** A shop's ten minutes: mixed types, 3 % bots, ±15 s of disorder and 4 % stragglers up to 200 s old. */
function makeEvents(): CanonicalEvent[] {
  const rng = mulberry32(2026);
  const types = [
    'page_view',
    'page_view',
    'page_view',
    'page_view',
    'view',
    'view',
    'view',
    'view',
    'cart',
    'purchase',
  ];
  return Array.from({ length: N }, (_, i) => {
    const base = T0 + Math.floor((i * SPAN) / N);
    const time =
      rng() < 0.04 ? base - 70_000 - Math.floor(rng() * 130_000) : base + Math.floor((rng() - 0.5) * 30_000);
    const type = types[Math.floor(rng() * types.length)];
    return testEvent({
      event_id: `e${i}`,
      type,
      time,
      receivedAt: base + 1000,
      visitor: `vis-${Math.floor(rng() * 25_000)}`,
      product_id: `p${Math.floor(rng() * 500)}`,
      ...(type === 'purchase'
        ? { price: Math.round(rng() * 20_000) / 100, quantity: 1 + Math.floor(rng() * 3) }
        : {}),
      ...(rng() < 0.03 ? { userAgent: BOT_UA } : {}),
    });
  });
}

/** The exact answer, by the rule the processor promises (per-site watermark, lateness 60 s). */
function expectedCounts(events: CanonicalEvent[]) {
  let watermark = 0;
  let late = 0;
  let bots = 0;
  let revenueCents = 0;
  const byMinute: Record<number, Record<string, number>> = {};
  const visitors = new Set<string>();
  for (const e of events) {
    const minute = Math.floor(e.event_time / MINUTE) * MINUTE;
    if (minute + MINUTE <= watermark) {
      late++;
      continue;
    }
    watermark = Math.max(watermark, Math.min(e.event_time, e.received_at) - LATENESS);
    if (e.is_bot) {
      bots++;
      continue;
    }
    byMinute[minute] ??= {};
    byMinute[minute][e.event_type] = (byMinute[minute][e.event_type] ?? 0) + 1;
    if (e.event_type === 'purchase') revenueCents += Math.round((e.revenue ?? 0) * 100);
    visitors.add(e.visitor_id);
  }
  return { byMinute, late, bots, revenue: revenueCents / 100, visitors: visitors.size };
}

interface Child {
  proc: ChildProcess;
  applied: number;
  checkpointed: number;
  output: string;
}

function startChild(dataDir: string): Child {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      RUNNER,
      '--data-dir',
      dataDir,
      '--max-batch',
      '100',
      '--checkpoint-batches',
      '10',
      '--checkpoint-ms',
      '1500',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const child: Child = { proc, applied: 0, checkpointed: 0, output: '' };
  proc.stdout!.on('data', (d: Buffer) => {
    child.output += d;
    const lines = [...child.output.matchAll(/applied (\d+) checkpointed (\d+)/g)];
    const last = lines.at(-1);
    if (last) [child.applied, child.checkpointed] = [Number(last[1]), Number(last[2])];
    child.output = child.output.slice(-200);
  });
  proc.stderr!.on('data', (d: Buffer) => process.stderr.write(`runner: ${d}`));
  return child;
}

const kill9 = (c: Child) =>
  new Promise<void>((resolve) => {
    c.proc.once('exit', () => resolve());
    c.proc.kill('SIGKILL');
  });

describe('realtime processor under SIGKILL', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sp-realtime-kill-'));
  let child: Child | null = null;
  after(() => {
    if (child && child.proc.exitCode === null) child.proc.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts every event exactly once though killed three times mid-stream', {
    timeout: 60_000,
  }, async () => {
    const events = makeEvents();
    const expected = expectedCounts(events);
    const log = new SqliteEventLog({ dir: join(dataDir, 'stream') });
    let appended = 0;
    let produced = false;
    let killsDone = false;
    const producer = (async () => {
      for (let i = 0; i < N; i += 200) {
        // Stay at most 3,000 events ahead of the running child until the kills are done, so a
        // slow start on a busy machine cannot let the producer finish first and leave every kill
        // landing on fully checkpointed work (then nothing would be redone and the test would
        // prove nothing).
        while (!killsDone && appended - (child?.applied ?? 0) > 3_000)
          await new Promise((r) => setTimeout(r, 20));
        const chunk = events.slice(i, i + 200);
        await log.append(
          TOPICS.events,
          chunk.map((e) => ({
            key: `shop:${e.event_id}`,
            value: JSON.stringify(e),
            timestamp: e.received_at,
          })),
        );
        appended += chunk.length;
        await new Promise((r) => setTimeout(r, 50));
      }
      produced = true;
    })();

    child = startChild(dataDir);
    const lostAtKill: number[] = [];
    for (const share of [0.2, 0.45, 0.7]) {
      const c = child;
      // Kill while applied work is not yet checkpointed, so the restart must redo it (if the
      // producer has finished meanwhile and all is checkpointed, kill anyway).
      await eventually(
        async () => c.applied >= share * N && (c.applied > c.checkpointed || produced),
        20_000,
        2,
      );
      const applied = c.applied;
      await kill9(c);
      const store = new CheckpointStore(join(dataDir, 'realtime.sqlite'));
      lostAtKill.push(applied - (store.positions()[TOPICS.events] ?? 0));
      store.close();
      child = startChild(dataDir);
    }
    killsDone = true;
    await producer;
    const c = child;
    await eventually(async () => c.applied === N, 20_000, 10);
    await kill9(c);
    console.log(
      `# appended ${appended}; applied but not checkpointed at each kill: ${lostAtKill.join(', ')}`,
    );
    assert.ok(
      lostAtKill.some((n) => n > 0),
      'at least one kill lost work that the restart had to redo',
    );

    // A fourth start, in this process, resumes from the last checkpoint of the killed child.
    const processor = new RealtimeProcessor({ log, dataDir, onError: (err) => assert.fail(err) });
    await processor.start();
    await eventually(async () => processor.status().positions[TOPICS.events] === N, 10_000, 10);
    const snap = processor.snapshot('shop', { range: { from: T0 - 10 * MINUTE, to: T0 + 15 * MINUTE } });
    await processor.stop();
    await log.close();

    const byMinute = Object.fromEntries(
      snap.series.filter((p) => p.events > 0).map((p) => [p.start, p.byType]),
    );
    assert.deepEqual(byMinute, expected.byMinute);
    assert.equal(snap.totals.revenue, expected.revenue);
    assert.equal(snap.totals.late, expected.late);
    assert.equal(snap.totals.botEvents, expected.bots);
    const err = Math.abs(snap.totals.visitors - expected.visitors) / expected.visitors;
    console.log(
      `# late ${expected.late}, bots ${expected.bots}, revenue ${expected.revenue}, visitors ${snap.totals.visitors} vs ${expected.visitors} exact (${(err * 100).toFixed(2)} %)`,
    );
    assert.ok(err <= 0.02, `unique visitors off by ${(err * 100).toFixed(2)} %`);
  });
});
