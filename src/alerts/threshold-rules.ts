import type Database from 'better-sqlite3';
import { parseThresholdRule, type ThresholdRule, thresholdRuleName } from './detectors/threshold.js';
import type { Evaluation } from './types.js';

/**
 * Threshold rules that people write in the dashboard, kept in alerts.sqlite (table
 * threshold_rules) and handed to the detection engine whenever they change. A rule that no
 * longer validates (the rule language changed since it was saved) is listed with its errors
 * and not evaluated, rather than dropped.
 */

export interface StoredRule {
  rule: ThresholdRule;
  createdBy: string;
  createdAt: number;
  updatedBy: string;
  updatedAt: number;
  /** Set when the saved rule does not validate any more: it is not evaluated. */
  errors?: string[];
}

export type RuleChange = { ok: true; rule: StoredRule } | { ok: false; reason: 'exists' | 'missing' };

interface RuleRow {
  id: string;
  rule: string;
  created_by: string;
  created_at: number;
  updated_by: string;
  updated_at: number;
}

export interface ThresholdRulesOptions {
  db: Database.Database;
  /** Receives the valid rules at start and after every change (DetectionEngine.setThresholdRules). */
  apply: (rules: ThresholdRule[]) => void;
  /** Where a deleted or moved rule's open alerts are resolved (AlertManager.process). */
  resolve: (e: Evaluation) => void;
  sites: () => string[];
  now?: () => number;
}

export class ThresholdRules {
  private readonly now: () => number;

  constructor(private readonly o: ThresholdRulesOptions) {
    this.now = o.now ?? Date.now;
    this.apply();
  }

  list(): StoredRule[] {
    return (this.o.db.prepare('SELECT * FROM threshold_rules ORDER BY id').all() as RuleRow[]).map(toStored);
  }

  get(id: string): StoredRule | null {
    const row = this.o.db.prepare('SELECT * FROM threshold_rules WHERE id = ?').get(id) as
      | RuleRow
      | undefined;
    return row ? toStored(row) : null;
  }

  create(rule: ThresholdRule, by: string): RuleChange {
    const now = this.now();
    const r = this.o.db
      .prepare(
        `INSERT INTO threshold_rules (id, rule, created_by, created_at, updated_by, updated_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      )
      .run(rule.id, JSON.stringify(rule), by, now, by, now);
    if (r.changes === 0) return { ok: false, reason: 'exists' };
    this.apply();
    return { ok: true, rule: { rule, createdBy: by, createdAt: now, updatedBy: by, updatedAt: now } };
  }

  replace(rule: ThresholdRule, by: string): RuleChange {
    const before = this.get(rule.id);
    if (!before) return { ok: false, reason: 'missing' };
    const now = this.now();
    this.o.db
      .prepare('UPDATE threshold_rules SET rule = ?, updated_by = ?, updated_at = ? WHERE id = ?')
      .run(JSON.stringify(rule), by, now, rule.id);
    this.apply();
    // Narrowed to one site: alerts it raised on the others would otherwise stay open for ever.
    if (rule.site !== undefined) this.resolveOpen(rule.id, (site) => site !== rule.site);
    return { ok: true, rule: { ...before, rule, updatedBy: by, updatedAt: now, errors: undefined } };
  }

  remove(id: string): boolean {
    if (this.o.db.prepare('DELETE FROM threshold_rules WHERE id = ?').run(id).changes === 0) return false;
    this.apply();
    this.resolveOpen(id, () => true);
    return true;
  }

  /** The rules the engine evaluates: every saved rule that still validates. */
  valid(): ThresholdRule[] {
    return this.list()
      .filter((r) => !r.errors)
      .map((r) => r.rule);
  }

  private apply(): void {
    this.o.apply(this.valid());
  }

  /** A rule's alerts resolve only when it is evaluated; a rule that is gone is evaluated once more, empty. */
  private resolveOpen(id: string, where: (site: string) => boolean): void {
    const at = this.now();
    for (const site of this.o.sites())
      if (where(site)) this.o.resolve({ rule: thresholdRuleName(id), site, at, signals: [] });
  }
}

function toStored(row: RuleRow): StoredRule {
  let parsed: unknown;
  try {
    parsed = JSON.parse(row.rule);
  } catch {
    parsed = null;
  }
  const r = parseThresholdRule(parsed, `saved rule "${row.id}"`);
  return {
    rule: r.ok ? r.value : ({ ...(parsed as object), id: row.id } as ThresholdRule),
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
    ...(r.ok ? {} : { errors: r.errors }),
  };
}
