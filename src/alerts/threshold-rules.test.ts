import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { ThresholdRule } from './detectors/threshold.js';
import { ThresholdRules } from './threshold-rules.js';
import type { Evaluation } from './types.js';

const SCHEMA = `CREATE TABLE threshold_rules (
  id TEXT PRIMARY KEY, rule TEXT NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL, updated_at INTEGER NOT NULL)`;

const NO_SALES: ThresholdRule = { id: 'no-sales', metric: 'purchases', windowMinutes: 5, op: '<', value: 1 };

function setup() {
  const db = new Database(':memory:');
  db.exec(SCHEMA);
  const applied: ThresholdRule[][] = [];
  const resolved: Evaluation[] = [];
  const make = () =>
    new ThresholdRules({
      db,
      apply: (rules) => applied.push(rules),
      resolve: (e) => resolved.push(e),
      sites: () => ['shop', 'outlet'],
      now: () => 1000,
    });
  return { db, applied, resolved, rules: make(), make };
}

describe('threshold rules store', () => {
  it('saves rules, hands every change to the engine, and loads them again', () => {
    const { applied, rules, make } = setup();
    assert.deepEqual(applied, [[]]);
    assert.ok(rules.create(NO_SALES, 'ann@shop.example').ok);
    assert.deepEqual(rules.create(NO_SALES, 'bob@shop.example'), { ok: false, reason: 'exists' });
    const changed = rules.replace({ ...NO_SALES, value: 2 }, 'bob@shop.example');
    assert.ok(changed.ok);
    assert.equal(changed.rule.createdBy, 'ann@shop.example');
    assert.equal(changed.rule.updatedBy, 'bob@shop.example');
    assert.deepEqual(rules.replace({ ...NO_SALES, id: 'nope' }, 'x'), { ok: false, reason: 'missing' });
    assert.deepEqual(applied.at(-1), [{ ...NO_SALES, value: 2 }]);
    // A restart reads them back and applies them at once.
    make();
    assert.deepEqual(applied.at(-1), [{ ...NO_SALES, value: 2 }]);
  });

  it('resolves the alerts of a deleted rule, and of sites a rule no longer watches', () => {
    const { rules, resolved } = setup();
    rules.create(NO_SALES, 'ann');
    rules.replace({ ...NO_SALES, site: 'shop' }, 'ann');
    assert.deepEqual(
      resolved.map((e) => [e.rule, e.site, e.signals.length]),
      [['threshold:no-sales', 'outlet', 0]],
    );
    assert.equal(rules.remove('no-sales'), true);
    assert.equal(rules.remove('no-sales'), false);
    assert.deepEqual(
      resolved.slice(1).map((e) => [e.rule, e.site]),
      [
        ['threshold:no-sales', 'shop'],
        ['threshold:no-sales', 'outlet'],
      ],
    );
  });

  it('lists a saved rule that no longer validates with its errors, and does not evaluate it', () => {
    const { db, applied, make } = setup();
    db.prepare('INSERT INTO threshold_rules VALUES (?, ?, ?, ?, ?, ?)').run(
      'old',
      JSON.stringify({ ...NO_SALES, id: 'old', metric: 'gone_metric' }),
      'ann',
      1,
      'ann',
      1,
    );
    const rules = make();
    const [listed] = rules.list();
    assert.equal(listed.rule.id, 'old');
    assert.match(listed.errors?.[0] ?? '', /unknown metric "gone_metric"/);
    assert.deepEqual(applied.at(-1), []);
  });
});
