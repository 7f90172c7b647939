import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { lastDue, RetrainScheduler } from './retrain-schedule.js';

const H = 3_600_000;
const D = 24 * H;

describe('scheduled retraining', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-retrain-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('knows when the last scheduled run was due', () => {
    const recs = (over: Partial<Config['recs']>): Config['recs'] => ({
      retrain: 'daily',
      retrainHour: 3,
      retrainWeekday: 0,
      trainDays: 90,
      reloadSeconds: 5,
      ...over,
    });
    // Sunday 2026-12-06.
    const sun = Date.parse('2026-12-06T00:00:00Z');
    assert.equal(lastDue(recs({ retrain: 'off' }), sun + 12 * H), null);
    assert.equal(lastDue(recs({}), sun + 12 * H), sun + 3 * H);
    assert.equal(lastDue(recs({}), sun + 2 * H), sun - D + 3 * H);
    assert.equal(lastDue(recs({ retrain: 'weekly' }), sun + 12 * H), sun + 3 * H);
    assert.equal(lastDue(recs({ retrain: 'weekly' }), sun + 1 * H), sun - 7 * D + 3 * H);
    // Wednesday 2026-12-09, weekly on Monday (1) at 23:00 → Monday 2026-12-07 23:00.
    assert.equal(
      lastDue(recs({ retrain: 'weekly', retrainWeekday: 1, retrainHour: 23 }), sun + 3 * D + 10 * H),
      sun + D + 23 * H,
    );
  });

  it('runs the trainer as a child process, keeps its progress, and reports failure', async () => {
    const config = loadConfig({ env: {}, overrides: { dataDir: dir } });
    const trained: string[] = [];
    const logged: string[] = [];
    let script = '';
    const scheduler = new RetrainScheduler({
      config,
      sites: () => ['shop'],
      onTrained: async (site) => {
        // The job is not reported done until the new model is loaded (this resolves).
        statesWhileLoading.push(scheduler.list()[0]?.state ?? '?');
        await new Promise((r) => setTimeout(r, 50));
        trained.push(site);
      },
      log: { info: (_o, m) => logged.push(m), warn: (_o, m) => logged.push(m) },
      command: (_job, configFile) => ({ cmd: process.execPath, args: ['-e', script, configFile] }),
    });
    const statesWhileLoading: string[] = [];
    // The child gets this server's settings in a file only it can read, removed afterwards.
    script = `
      const fs = require('node:fs');
      const c = JSON.parse(fs.readFileSync(process.argv[1], 'utf8'));
      if ((fs.statSync(process.argv[1]).mode & 0o077) !== 0) process.exit(3);
      console.log('data dir ' + c.dataDir);
      for (let i = 1; i <= 3; i++) console.log('iteration ' + i + '/3 loss ' + (1 / i).toFixed(3));
      process.stderr.write('wrote model v-test\\n');
    `;
    const first = scheduler.train('shop', 'api', 14);
    assert.ok('job' in first);
    const busy = scheduler.train('shop', 'api');
    assert.ok('busy' in busy && busy.busy.id === first.job.id, 'one training at a time');
    assert.equal(scheduler.running()?.id, first.job.id);
    await first.done;
    const job = scheduler.get(first.job.id);
    assert.equal(job?.state, 'succeeded', JSON.stringify(job));
    assert.equal(job?.days, 14);
    assert.deepEqual(job?.progress, [
      `data dir ${dir}`,
      'iteration 1/3 loss 1.000',
      'iteration 2/3 loss 0.500',
      'iteration 3/3 loss 0.333',
      'wrote model v-test',
    ]);
    assert.deepEqual(trained, ['shop']);
    assert.deepEqual(statesWhileLoading, ['running']);
    assert.deepEqual(
      readdirSync(join(dir, 'recs')).filter((f) => f.startsWith('.train-')),
      [],
    );

    script = `console.log('reading the lake'); console.error('no events in the lake between the dates'); process.exit(2);`;
    const second = scheduler.train('shop', 'schedule');
    assert.ok('job' in second);
    await second.done;
    const failed = scheduler.get(second.job.id);
    assert.equal(failed?.state, 'failed');
    assert.match(failed?.error ?? '', /exited with 2: no events in the lake/);
    assert.deepEqual(trained, ['shop'], 'a failed training loads nothing');
    assert.deepEqual(
      scheduler.list('shop').map((j) => j.state),
      ['failed', 'succeeded'],
    );
    assert.ok(logged.includes('recs training failed'));
    await scheduler.stop();
  });

  it('a first start waits for the next scheduled time instead of training at once', async () => {
    const config = loadConfig({ env: {}, overrides: { dataDir: join(dir, 'first') } });
    let now = Date.parse('2026-12-06T12:00:00Z');
    const starts: string[] = [];
    const scheduler = new RetrainScheduler({
      config,
      sites: () => ['shop', 'other'],
      onTrained: () => {},
      log: { info: (_o, m) => m === 'recs training started' && starts.push(m), warn: () => {} },
      command: () => ({ cmd: process.execPath, args: ['-e', ''] }),
      tickMs: 20,
      now: () => now,
    });
    scheduler.start();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(starts, [], 'nothing due since the first start');
    assert.ok(existsSync(join(dir, 'first', 'recs', 'schedule.json')));
    now += 16 * H; // 04:00 next day: 03:00 has passed
    const deadline = Date.now() + 10_000;
    while (scheduler.list().filter((j) => j.state !== 'running').length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      scheduler
        .list()
        .map((j) => `${j.siteId} ${j.trigger} ${j.state}`)
        .sort(),
      ['other schedule succeeded', 'shop schedule succeeded'],
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(scheduler.list().length, 2, 'each site once per due time');
    await scheduler.stop();
  });
});
