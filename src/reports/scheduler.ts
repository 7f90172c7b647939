import { deliverWithRetry, type TargetPolicy } from '../notify/http-target.js';
import type { Mailer } from '../notify/mailer.js';
import { reportCsv, reportFilename } from './csv.js';
import { periodOf, type ReportSchedules, type Schedule } from './schedules.js';
import { renderSummary } from './summary.js';
import type { ReportAnswer, ReportInfo } from './types.js';

/** What the scheduler needs from the report engine. */
export interface ReportSource {
  list(): ReportInfo[];
  run(site: string, report: string, params: Record<string, string>): Promise<ReportAnswer>;
}

export interface SchedulerOptions {
  schedules: ReportSchedules;
  reports: ReportSource;
  mailer: Mailer;
  policy: TargetPolicy;
  /** Base URL of the dashboard, for the "open in storepulse" link; empty for none. */
  publicUrl?: string;
  tickMs?: number;
  onError?: (err: Error) => void;
  onSent?: (s: Schedule, how: string) => void;
}

export interface SendResult {
  ok: boolean;
  detail: string;
}

/**
 * Sends due scheduled reports: each run covers the whole UTC days before it (yesterday, or the
 * last 7 days), as a CSV attachment and an HTML summary. A failed send is recorded with its
 * error and retried with backoff; the schedule keeps its regular times after a success.
 */
export class ReportScheduler {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(private readonly o: SchedulerOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.o.tickMs ?? 30_000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Sends everything due now; one tick at a time. */
  async tick(now = Date.now()): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    let sent = 0;
    try {
      for (const s of this.o.schedules.due(now)) if ((await this.send(s, now, now)).ok) sent++;
    } finally {
      this.busy = false;
    }
    return sent;
  }

  /**
   * Runs a schedule's report for the period a send at `periodAt` covers and delivers it; the
   * outcome is recorded at `now` (a manual send of a past period does not move the schedule back).
   */
  async send(s: Schedule, periodAt = Date.now(), now = Date.now()): Promise<SendResult> {
    try {
      const detail = await this.deliver(s, periodAt);
      this.o.schedules.sent(s.id, now);
      this.o.onSent?.(s, detail);
      return { ok: true, detail };
    } catch (err) {
      const message = (err as Error).message;
      this.o.schedules.failed(s.id, now, message);
      this.o.onError?.(new Error(`scheduled report ${s.id} (${s.report} for ${s.site}) failed: ${message}`));
      return { ok: false, detail: message };
    }
  }

  private async deliver(s: Schedule, at: number): Promise<string> {
    const period = periodOf(s.cadence, at);
    const answer = await this.o.reports.run(s.site, s.report, { ...s.params, ...period });
    const title = this.o.reports.list().find((r) => r.id === s.report)?.title ?? s.report;
    const link = this.o.publicUrl
      ? `${this.o.publicUrl.replace(/\/$/, '')}/reports?site=${encodeURIComponent(s.site)}&report=${encodeURIComponent(s.report)}&from=${period.from}&to=${period.to}`
      : undefined;
    const summary = renderSummary(answer, { title, ...period, link });
    const csv = reportCsv(answer);
    const filename = reportFilename(s.site, answer);
    if (s.channel === 'email') {
      const to = s.target.split(',').map((a) => a.trim());
      const r = await this.o.mailer.send({
        to,
        subject: summary.subject,
        text: summary.text,
        html: summary.html,
        attachments: [{ filename, content: csv, contentType: 'text/csv; charset=utf-8' }],
      });
      return `e-mailed to ${to.join(', ')} (${r.messageId})`;
    }
    const body = JSON.stringify({
      type: 'storepulse.report',
      schedule: s.id,
      site: s.site,
      report: s.report,
      title,
      from: period.from,
      to: period.to,
      params: answer.params,
      columns: answer.columns,
      rows: answer.rows.length,
      filename,
      csv,
      html: summary.html,
      text: summary.text,
    });
    const r = await deliverWithRetry(s.target, {
      body,
      policy: this.o.policy,
      hmacSecret: this.o.schedules.secretOf(s.id) ?? undefined,
    });
    return `posted to ${new URL(s.target).host} (HTTP ${r.status}, ${r.attempts} attempt${r.attempts === 1 ? '' : 's'})`;
  }
}
