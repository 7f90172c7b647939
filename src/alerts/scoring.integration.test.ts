import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../testing/server-process.js';
import { replayDemo } from './scoring/replay.js';
import { formatScore, GOALS, score } from './scoring/scoring.js';

/**
 * A small scoring run end to end: nine days of a small demo store (150k events a day, about
 * 0.5 orders a minute) with its labelled incidents, replayed through the detectors. At this
 * size an order-rate change of 30–50% is not statistically visible within minutes (a few
 * orders per window), so those goals are checked by `storepulse alerts score` at full size
 * (docs/DETECTION.md); here the goals that do not depend on volume are asserted: every flood
 * flagged within a minute, card testing and cart bots found, and no more than one false alarm
 * in the scored days.
 */
describe('detection scoring', () => {
  it('scores a small replay: floods within a minute, bots and card testing found, few false alarms', {
    timeout: 240_000,
  }, async () => {
    const replay = await replayDemo({ days: 9, eventsPerDay: 150_000, seed: 7 });
    const s = score(replay, { warmupDays: 3, lateMs: 5 * 60_000, graceMs: 30 * 60_000 });
    const table = formatScore(s);
    console.log(table);
    const type = (name: string) => s.types.find((t) => t.type === name)!;

    const floods = type('request flood (≤ 5 IPs)');
    assert.ok(floods.incidents >= 2, table);
    assert.equal(floods.detected, floods.incidents, table);
    assert.ok(Math.max(...floods.ttd) <= GOALS.floodMs, table);

    const cards = type('card testing');
    assert.ok(cards.incidents >= 1 && cards.detected === cards.incidents, table);
    const cartBots = type('cart bots');
    assert.equal(cartBots.detected, cartBots.incidents, table);

    // Order-rate incidents are scored (printed above) but not asserted at this volume: with about
    // half an order a minute even the -90% outages are found only sometimes (1–2 of 4 in the last
    // runs). Their goals are measured at full size with `storepulse alerts score` (docs/DETECTION.md).
    assert.ok(type('order rate -90%').incidents >= 1, table);

    const falseAlarms = s.detectors.reduce((n, d) => n + d.falseAlarms, 0);
    assert.ok(falseAlarms <= 1, `${falseAlarms} false alarms in ${s.normalWeeks.toFixed(2)} weeks\n${table}`);
  });

  it('`storepulse alerts score` prints the table and the goals', { timeout: 120_000 }, async () => {
    const help = await runCli(['alerts', 'score', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--events-per-day <n>/);
    const run = await runCli([
      'alerts',
      'score',
      '--days',
      '2',
      '--warmup-days',
      '1',
      '--events-per-day',
      '20000',
      '--no-progress',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /\| incident type \| detector \| incidents \| detected \| recall \|/);
    assert.match(run.stdout, /false alarms \/ week/);
    assert.match(run.stdout, /Goals \(issue 5\):/);
    const bad = await runCli(['alerts', 'score', '--days', '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--days must be a number ≥ 8/);
  });
});
