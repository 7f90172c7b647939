import { randomBytes, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';

/**
 * Reports sent on a schedule (the QuickSight "email report" part): daily or weekly, by e-mail
 * (SMTP) or to a webhook, as CSV plus an HTML summary. Kept in meta.sqlite.
 */
export type Cadence = 'daily' | 'weekly';
export type Channel = 'email' | 'webhook';

export interface ScheduleInput {
  site: string;
  report: string;
  /** Report parameters other than the date range, which the cadence decides. */
  params: Record<string, string>;
  cadence: Cadence;
  /** UTC hour to send at, 0–23. */
  hour: number;
  /** Weekly: 0 = Sunday … 6 = Saturday (UTC). */
  weekday: number | null;
  channel: Channel;
  /** E-mail: comma-separated addresses. Webhook: the URL. */
  target: string;
}

export interface Schedule extends ScheduleInput {
  id: string;
  createdBy: string;
  createdAt: number;
  nextRunAt: number;
  lastRunAt: number | null;
  lastStatus: 'sent' | 'failed' | null;
  lastError: string | null;
  failures: number;
}

interface Row {
  id: string;
  site: string;
  report: string;
  params: string;
  cadence: Cadence;
  hour: number;
  weekday: number | null;
  channel: Channel;
  target: string;
  secret: string | null;
  created_by: string;
  created_at: number;
  next_run_at: number;
  last_run_at: number | null;
  last_status: 'sent' | 'failed' | null;
  last_error: string | null;
  failures: number;
}

const toSchedule = (r: Row): Schedule => ({
  id: r.id,
  site: r.site,
  report: r.report,
  params: JSON.parse(r.params) as Record<string, string>,
  cadence: r.cadence,
  hour: r.hour,
  weekday: r.weekday,
  channel: r.channel,
  target: r.target,
  createdBy: r.created_by,
  createdAt: r.created_at,
  nextRunAt: r.next_run_at,
  lastRunAt: r.last_run_at,
  lastStatus: r.last_status,
  lastError: r.last_error,
  failures: r.failures,
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The first send time strictly after `after` for a cadence (UTC). */
export function nextRun(s: Pick<ScheduleInput, 'cadence' | 'hour' | 'weekday'>, after: number): number {
  let t = Math.floor(after / DAY) * DAY + s.hour * HOUR;
  while (t <= after || (s.cadence === 'weekly' && new Date(t).getUTCDay() !== s.weekday)) t += DAY;
  return t;
}

/** The whole UTC days a send at `at` reports on: yesterday (daily) or the 7 days before (weekly). */
export function periodOf(cadence: Cadence, at: number): { from: string; to: string } {
  const to = Math.floor(at / DAY) * DAY;
  const from = to - (cadence === 'daily' ? 1 : 7) * DAY;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { from: day(from), to: day(to) };
}

export class ReportSchedules {
  constructor(private readonly db: Database.Database) {}

  /** Creates a schedule; a webhook gets a signing secret, returned only here. */
  create(
    input: ScheduleInput,
    createdBy: string,
    now = Date.now(),
  ): { schedule: Schedule; secret: string | null } {
    const id = randomUUID();
    const secret = input.channel === 'webhook' ? randomBytes(24).toString('base64url') : null;
    this.db
      .prepare(
        `INSERT INTO report_schedules (id, site, report, params, cadence, hour, weekday, channel, target, secret,
           created_by, created_at, next_run_at, failures)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
      )
      .run(
        id,
        input.site,
        input.report,
        JSON.stringify(input.params),
        input.cadence,
        input.hour,
        input.cadence === 'weekly' ? input.weekday : null,
        input.channel,
        input.target,
        secret,
        createdBy,
        now,
        nextRun(input, now),
      );
    return { schedule: this.get(id)!, secret };
  }

  get(id: string): Schedule | null {
    const r = this.db.prepare('SELECT * FROM report_schedules WHERE id = ?').get(id) as Row | undefined;
    return r ? toSchedule(r) : null;
  }

  secretOf(id: string): string | null {
    const r = this.db.prepare('SELECT secret FROM report_schedules WHERE id = ?').get(id) as
      | { secret: string | null }
      | undefined;
    return r?.secret ?? null;
  }

  list(site?: string): Schedule[] {
    const rows = (
      site
        ? this.db.prepare('SELECT * FROM report_schedules WHERE site = ? ORDER BY created_at').all(site)
        : this.db.prepare('SELECT * FROM report_schedules ORDER BY created_at').all()
    ) as Row[];
    return rows.map(toSchedule);
  }

  remove(id: string): boolean {
    return this.db.prepare('DELETE FROM report_schedules WHERE id = ?').run(id).changes > 0;
  }

  due(now: number): Schedule[] {
    return (
      this.db
        .prepare('SELECT * FROM report_schedules WHERE next_run_at <= ? ORDER BY next_run_at')
        .all(now) as Row[]
    ).map(toSchedule);
  }

  /** Records a send; the next one is the next regular time. */
  sent(id: string, at: number): void {
    const s = this.get(id);
    if (!s) return;
    this.db
      .prepare(
        `UPDATE report_schedules SET last_run_at = ?, last_status = 'sent', last_error = NULL, failures = 0,
           next_run_at = ? WHERE id = ?`,
      )
      .run(at, nextRun(s, at), id);
  }

  /** Records a failure; retried with backoff (1, 2, 4 … minutes, at most an hour), never skipped silently. */
  failed(id: string, at: number, error: string): void {
    const s = this.get(id);
    if (!s) return;
    const backoff = Math.min(HOUR, 60_000 * 2 ** s.failures);
    this.db
      .prepare(
        `UPDATE report_schedules SET last_run_at = ?, last_status = 'failed', last_error = ?,
           failures = failures + 1, next_run_at = ? WHERE id = ?`,
      )
      .run(at, error.slice(0, 1000), at + backoff, id);
  }
}
