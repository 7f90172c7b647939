import { createHash, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { type AlertRow, rowToAlert } from './store.js';
import type { Alert, Evaluation, Labels, Signal } from './types.js';

/** Label matchers: `value` equal, or `~regex` for a regular expression (anchored). */
export type Matchers = Record<string, string>;

export interface Silence {
  id: string;
  /** 'silence' mutes matching alerts; 'maintenance' is a planned window (a sale, a deploy) that does the same and says why. */
  kind: 'silence' | 'maintenance';
  matchers: Matchers;
  startsAt: number;
  endsAt: number;
  author: string;
  comment: string;
  createdAt: number;
}

/** While an alert matching `source` fires, alerts matching `target` with the same `equal` labels are muted. */
export interface InhibitRule {
  source: Matchers;
  target: Matchers;
  equal: string[];
}

export const DEFAULT_INHIBIT: InhibitRule[] = [
  // Failing checkouts explain a conversion or order drop on the same site: one page, not three.
  {
    source: { alertname: 'checkout_errors' },
    target: { alertname: '~conversion_drop|order_rate_anomaly' },
    equal: ['site'],
  },
];

export interface ManagerOptions {
  db: Database.Database;
  /** How long a condition must hold before its alert fires, per rule; default 0 (detectors already debounce). */
  pendingMs?: Record<string, number>;
  /** A firing, unacknowledged alert is notified again this often. */
  repeatIntervalMs?: number;
  inhibit?: InhibitRule[];
  /** Resolved alerts stay listed (not in history, which keeps everything) this long. */
  keepResolvedMs?: number;
}

export interface HistoryEntry {
  id: number;
  fingerprint: string;
  rule: string;
  site: string;
  at: number;
  state: Alert['state'];
  summary: string;
  labels: Labels;
  value: number | null;
  band: Alert['band'] | null;
}

export interface Notification {
  kind: 'firing' | 'resolved';
  alert: Alert & { site: string };
  /** Same key for the same notification, even if a crash makes it go out twice. */
  key: string;
}

export function fingerprint(labels: Labels): string {
  const canonical = JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

export function matches(labels: Labels, m: Matchers): boolean {
  return Object.entries(m).every(([k, v]) =>
    v.startsWith('~') ? new RegExp(`^(?:${v.slice(1)})$`).test(labels[k] ?? '') : labels[k] === v,
  );
}

/**
 * Alert lifecycle: evaluations from detectors become alerts (pending → firing → resolved, one
 * per fingerprint), every transition is kept in the history, and notifications are queued in
 * the outbox — unless a silence, maintenance window or inhibiting alert mutes them. Queuing
 * happens in `tick()`, so a silence that ends while an alert still fires lets it through then.
 */
export class AlertManager {
  private readonly db: Database.Database;
  private readonly o: Required<Omit<ManagerOptions, 'db'>>;

  constructor(options: ManagerOptions) {
    this.db = options.db;
    this.o = {
      pendingMs: options.pendingMs ?? {},
      repeatIntervalMs: options.repeatIntervalMs ?? 4 * 3_600_000,
      inhibit: options.inhibit ?? DEFAULT_INHIBIT,
      keepResolvedMs: options.keepResolvedMs ?? 24 * 3_600_000,
    };
  }

  /** Applies one evaluation: new and continuing signals, and resolution of this rule's alerts that are gone. */
  process(ev: Evaluation, now = Date.now()): void {
    this.db.transaction(() => {
      const seen = new Set<string>();
      for (const signal of ev.signals) seen.add(this.upsert(ev, signal));
      const active = this.db
        .prepare(`SELECT * FROM alerts WHERE rule = ? AND site = ? AND state IN ('pending', 'firing')`)
        .all(ev.rule, ev.site) as AlertRow[];
      for (const row of active) if (!seen.has(row.fingerprint)) this.resolve(row, ev.at);
      this.queue(now);
    })();
  }

  private upsert(ev: Evaluation, s: Signal): string {
    const labels = { ...s.labels, site: ev.site };
    const fp = fingerprint({ ...labels, rule: ev.rule });
    const row = this.db.prepare('SELECT * FROM alerts WHERE fingerprint = ?').get(fp) as AlertRow | undefined;
    const fresh = !row || row.state === 'resolved';
    const since = fresh ? s.at : row.since;
    const firing = s.at - since >= (this.o.pendingMs[ev.rule] ?? 0);
    const state = firing ? 'firing' : 'pending';
    const firingSince = firing ? (fresh || row.state !== 'firing' ? s.at : row.firing_since) : null;
    const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
    this.db
      .prepare(
        `INSERT INTO alerts (fingerprint, rule, site, labels, severity, state, summary, since, firing_since,
           resolved_at, last_seen, value, band, evidence, acknowledged_by, last_notified_at, notified_state)
         VALUES (@fp, @rule, @site, @labels, @severity, @state, @summary, @since, @firingSince, NULL, @at,
           @value, @band, @evidence, NULL, NULL, NULL)
         ON CONFLICT (fingerprint) DO UPDATE SET labels = @labels, severity = @severity, state = @state,
           summary = @summary, since = @since, firing_since = @firingSince, resolved_at = NULL, last_seen = @at,
           value = @value, band = @band, evidence = @evidence,
           acknowledged_by = CASE WHEN @fresh THEN NULL ELSE acknowledged_by END,
           notified_state = CASE WHEN @fresh THEN NULL ELSE notified_state END`,
      )
      .run({
        fp,
        rule: ev.rule,
        site: ev.site,
        labels: JSON.stringify(labels),
        severity: s.severity,
        state,
        summary: s.summary,
        since,
        firingSince,
        at: s.at,
        value: s.value ?? null,
        band: json(s.band),
        evidence: json(s.evidence),
        fresh: fresh ? 1 : 0,
      });
    if (fresh || row.state !== state) this.record(fp, state, s.at);
    return fp;
  }

  private resolve(row: AlertRow, at: number): void {
    this.db
      .prepare(`UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE fingerprint = ?`)
      .run(at, row.fingerprint);
    this.record(row.fingerprint, 'resolved', at);
  }

  private record(fp: string, state: string, at: number): void {
    this.db
      .prepare(
        `INSERT INTO alert_history (fingerprint, rule, site, at, state, summary, labels, value, band, evidence)
         SELECT fingerprint, rule, site, ?, ?, summary, labels, value, band, evidence FROM alerts WHERE fingerprint = ?`,
      )
      .run(at, state, fp);
  }

  /** Queues due notifications (first firing, repeats, resolutions); call every few seconds. */
  tick(now = Date.now()): void {
    this.db.transaction(() => this.queue(now))();
  }

  private queue(now: number): void {
    const rows = this.db
      .prepare(
        `SELECT * FROM alerts WHERE (state = 'firing') OR (state = 'resolved' AND notified_state = 'firing')`,
      )
      .all() as AlertRow[];
    const firing = rows.filter((r) => r.state === 'firing').map(rowToAlert);
    for (const row of rows) {
      const alert = rowToAlert(row);
      if (row.state === 'resolved') {
        this.enqueue(alert, 'resolved', now, `${row.fingerprint}:${row.firing_since}:resolved`);
        continue;
      }
      if (this.mutedBy(alert, now, firing)) continue;
      const first = row.notified_state !== 'firing';
      const repeat =
        !first && !row.acknowledged_by && now - (row.last_notified_at ?? 0) >= this.o.repeatIntervalMs;
      if (first || repeat)
        this.enqueue(
          alert,
          'firing',
          now,
          `${row.fingerprint}:${row.firing_since}:firing:${first ? 0 : now}`,
        );
    }
    this.db
      .prepare(
        `DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < ? AND (notified_state IS NULL OR notified_state = 'resolved')`,
      )
      .run(now - this.o.keepResolvedMs);
  }

  private enqueue(
    alert: Alert & { site: string },
    kind: Notification['kind'],
    now: number,
    key: string,
  ): void {
    const n: Notification = { kind, alert, key };
    this.db
      .prepare('INSERT INTO outbox (fingerprint, state, at, payload, next_attempt_at) VALUES (?, ?, ?, ?, ?)')
      .run(alert.fingerprint, kind, now, JSON.stringify(n), now);
    this.db
      .prepare('UPDATE alerts SET notified_state = ?, last_notified_at = ? WHERE fingerprint = ?')
      .run(kind, now, alert.fingerprint);
  }

  /** Why an alert is muted now (a silence's or maintenance window's id, or the inhibiting alert), or null. */
  mutedBy(alert: Alert, now = Date.now(), firing?: Alert[]): string | null {
    for (const s of this.silences(now)) if (matches(alert.labels, s.matchers)) return `${s.kind}:${s.id}`;
    const sources = firing ?? this.alerts({ state: 'firing' });
    for (const rule of this.o.inhibit) {
      if (!matches(alert.labels, rule.target)) continue;
      const by = sources.find(
        (src) =>
          src.fingerprint !== alert.fingerprint &&
          matches(src.labels, rule.source) &&
          rule.equal.every((l) => src.labels[l] === alert.labels[l]),
      );
      if (by) return `inhibited:${by.labels.alertname ?? by.rule}`;
    }
    return null;
  }

  alerts(q: { site?: string; state?: Alert['state'] } = {}, now = Date.now()): (Alert & { site: string })[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM alerts WHERE (@site IS NULL OR site = @site) AND (@state IS NULL OR state = @state)
         ORDER BY CASE state WHEN 'firing' THEN 0 WHEN 'pending' THEN 1 ELSE 2 END, since DESC`,
      )
      .all({ site: q.site ?? null, state: q.state ?? null }) as AlertRow[];
    const alerts = rows.map(rowToAlert);
    const firing = alerts.filter((a) => a.state === 'firing');
    return alerts.map((a) => ({
      ...a,
      mutedBy: a.state === 'resolved' ? null : this.mutedBy(a, now, firing),
    }));
  }

  history(q: { site?: string; from?: number; to?: number; limit?: number } = {}): HistoryEntry[] {
    return (
      this.db
        .prepare(
          `SELECT id, fingerprint, rule, site, at, state, summary, labels, value, band FROM alert_history
           WHERE (@site IS NULL OR site = @site) AND at >= @from AND at < @to ORDER BY id DESC LIMIT @limit`,
        )
        .all({
          site: q.site ?? null,
          from: q.from ?? 0,
          to: q.to ?? Number.MAX_SAFE_INTEGER,
          limit: Math.min(q.limit ?? 200, 1000),
        }) as (Omit<HistoryEntry, 'labels' | 'band'> & { labels: string; band: string | null })[]
    ).map(
      (r): HistoryEntry => ({ ...r, labels: JSON.parse(r.labels), band: r.band ? JSON.parse(r.band) : null }),
    );
  }

  acknowledge(fp: string, by: string): boolean {
    return (
      this.db
        .prepare('UPDATE alerts SET acknowledged_by = ? WHERE fingerprint = ? AND state != ?')
        .run(by, fp, 'resolved').changes > 0
    );
  }

  addSilence(s: Omit<Silence, 'id' | 'createdAt'>, now = Date.now()): Silence {
    const silence: Silence = { ...s, id: randomUUID(), createdAt: now };
    this.db
      .prepare(
        'INSERT INTO silences (id, kind, matchers, starts_at, ends_at, author, comment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(silence.id, s.kind, JSON.stringify(s.matchers), s.startsAt, s.endsAt, s.author, s.comment, now);
    return silence;
  }

  /** Ends a silence now (kept for the record). */
  expireSilence(id: string, now = Date.now()): boolean {
    return (
      this.db.prepare('UPDATE silences SET ends_at = min(ends_at, ?) WHERE id = ?').run(now, id).changes > 0
    );
  }

  /** Silences active at `now`, or all that have not ended yet when `upcoming`. */
  silences(now = Date.now(), o: { upcoming?: boolean; all?: boolean } = {}): Silence[] {
    const sql = o.all
      ? 'SELECT * FROM silences ORDER BY created_at DESC LIMIT 500'
      : o.upcoming
        ? 'SELECT * FROM silences WHERE ends_at > @now ORDER BY starts_at'
        : 'SELECT * FROM silences WHERE starts_at <= @now AND ends_at > @now';
    return (this.db.prepare(sql).all({ now }) as Record<string, unknown>[]).map((r) => ({
      id: r.id as string,
      kind: r.kind as Silence['kind'],
      matchers: JSON.parse(r.matchers as string) as Matchers,
      startsAt: r.starts_at as number,
      endsAt: r.ends_at as number,
      author: r.author as string,
      comment: r.comment as string,
      createdAt: r.created_at as number,
    }));
  }
}
