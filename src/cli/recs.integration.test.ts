import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** The real CLI in a child process, on a small demo backfill. */
describe('storepulse recs (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sp-recs-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, '-d', dir, ...args], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it('trains with progress, keeps the previous model, rolls back, and evaluates every method', () => {
    const empty = run('recs', 'train');
    assert.equal(empty.code, 1);
    assert.match(empty.err, /no events in the lake.*import or backfill/);

    const demo = run(
      'demo',
      '--mode',
      'backfill',
      '--days',
      '5',
      '--events-per-day',
      '4000',
      '--end',
      '2026-11-10',
    );
    assert.equal(demo.code, 0, demo.err);

    const small = ['--factors', '8', '--iterations', '3'];
    const t1 = run('recs', 'train', ...small);
    assert.equal(t1.code, 0, t1.err);
    assert.match(t1.err, /ALS iteration 3\/3 {2}loss \d\.\d+e-\d+/);
    assert.match(t1.out, /trained model \d{8}T\d{6}Z: [\d,]+ users, [\d,]+ items/);
    const t2 = run('recs', 'train', ...small, '--no-progress');
    assert.equal(t2.code, 0, t2.err);
    assert.equal(t2.err, '');

    const list = run('recs', 'list');
    const versions = [...list.out.matchAll(/^(\d{8}T\d{6}Z(?:-\d+)?)/gm)].map((m) => m[1]);
    assert.equal(versions.length, 2, list.out);
    // `recs list` stars the version being served.
    const starred = (out: string) =>
      out
        .split('\n')
        .filter((l) => /^\d{8}T/.test(l) && /\*/.test(l))
        .map((l) => l.split(/\s/)[0]);
    assert.deepEqual(starred(list.out), [versions[1]], list.out);

    const back = run('recs', 'rollback');
    assert.equal(back.code, 0, back.err);
    assert.match(
      back.out,
      new RegExp(`current model of site \\S+ is now ${versions[0]} \\(was ${versions[1]}\\)`),
    );
    assert.deepEqual(starred(run('recs', 'list').out), [versions[0]]);
    const again = run('recs', 'rollback');
    assert.equal(again.code, 1);
    assert.match(again.err, /nothing to roll back to/);

    const ev = run('recs', 'eval', ...small, '--test-days', '1', '--no-progress');
    assert.equal(ev.code, 0, ev.err);
    for (const method of ['als', 'cooccurrence', 'popularity', 'category popularity', 'personal history']) {
      assert.match(ev.out, new RegExp(`^${method} +│ 0\\.\\d{4} +│`, 'm'), `${method} row in\n${ev.out}`);
    }
    assert.match(ev.out, /HR@10 +│ precision@10 +│ recall@10 +│ NDCG@10 +│ MAP@10 +│ coverage/);
    assert.match(ev.out, /tested on 2026-11-09T00:00:00\.000Z … 2026-11-10T00:00:00\.000Z: [\d,]+ users/);
  });
});
