import { join } from 'node:path';
import {
  DEFAULT_ERRORS,
  type ErrorOptions,
  errorSignalKey,
  evaluateErrors,
} from '../../alerts/detectors/error-rate.js';
import { DAY, floorMinute, MINUTE, type SeriesView } from '../../alerts/detectors/series.js';
import { withLogsQuery } from '../../alerts/logs-query.js';
import type { Evaluation } from '../../alerts/types.js';
import type { EventLog, StoredRecord, Subscription } from '../../stream/event-log.js';
import type { LogRecord } from '../log-record.js';
import { addTo } from './latency-histogram.js';
import { emptyRow, LogMetricsStore, type MinuteRow } from './log-metrics-store.js';
import { DEFAULT_LOGIN_PATTERN, loginOf } from './login-events.js';
import { BoundedNames, pathGroup } from './path-group.js';

export const LOG_METRICS_GROUP = 'log-metrics';
/** The rule name of evaluations made on log metrics (the engine's own error rule is `errors`). */
export const LOG_ERRORS_RULE = 'log_errors';
/** The error series logs feed: 5xx of all requests, failed logins of login attempts. */
const LOG_SERIES = new Set(['http', 'login']);

export interface LogMetricsOptions {
  log: EventLog;
  /** The metrics live in `<dataDir>/log-metrics.sqlite`. */
  dataDir: string;
  topic?: string;
  group?: string;
  /** Evaluations of the 5xx and failed-login rules (the alert manager's `process`). */
  onEvaluation?: (e: Evaluation) => void;
  /** Error rules per site (default DEFAULT_ERRORS); only the `http` and `login` series apply to logs. */
  errors?: (site: string) => ErrorOptions | null;
  /** Regular expression for login paths: a POST there answered 401/403 is a failed login. */
  loginPattern?: string;
  maxPathGroups?: number;
  maxHosts?: number;
  /** A minute is evaluated once the newest line is this far past its end. */
  allowedLatenessMs?: number;
  /** When caught up, move idle sites' log time forward with the clock this often (0: never). */
  idleAdvanceMs?: number;
  retentionDays?: number;
  maxBatch?: number;
  now?: () => number;
  onError?: (err: Error) => void;
}

interface SiteState {
  /** Largest line time seen (capped at its arrival), ms. */
  maxSeen: number;
  /** End of the last evaluated minute. */
  lastEvaluated: number;
  /** Keys of the signals firing at the last evaluation (hysteresis). */
  active: string[];
}

const SERIES_COLUMNS: Record<string, 'requests' | 's5xx' | 'login_attempts' | 'login_failures'> = {
  'requests.http': 'requests',
  'errors.http': 's5xx',
  'requests.login': 'login_attempts',
  'errors.login': 'login_failures',
};

/** After a gap only the last this-many minutes are evaluated. */
const MAX_CATCH_UP_MINUTES = 15;

/**
 * Stream (`logs` topic) → log metrics, as consumer group 'log-metrics': per minute, site,
 * host and path group the requests, 2xx–5xx, bytes and a response-time histogram; failed
 * logins per account and IP. Counts and the stream position are saved in one transaction
 * (redelivered records are skipped by position), so replays and crashes count nothing twice.
 *
 * It also runs the error rules of src/alerts/detectors/error-rate.ts on these minutes — the
 * `http` series (errors = 5xx, requests = all) and the `login` series with per-key counts —
 * as log time passes each minute, and hands the evaluations (rule `log_errors`) to the alert
 * manager. Log time has its own watermark: a site that only ships logs is watched too.
 */
export class LogMetrics {
  readonly store: LogMetricsStore;
  private readonly o: Required<Omit<LogMetricsOptions, 'onEvaluation' | 'errors'>> &
    Pick<LogMetricsOptions, 'onEvaluation' | 'errors'>;
  private readonly loginPath: RegExp;
  private readonly hosts: BoundedNames;
  private readonly groups: BoundedNames;
  private sites: Record<string, SiteState> = {};
  private position = 0;
  private sub: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastBatchAt = 0;
  private lastRetention = 0;
  private running = false;
  ready = false;

  constructor(options: LogMetricsOptions) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.o = {
      topic: 'logs',
      group: LOG_METRICS_GROUP,
      loginPattern: DEFAULT_LOGIN_PATTERN,
      maxPathGroups: 50,
      maxHosts: 50,
      allowedLatenessMs: 60_000,
      idleAdvanceMs: 5_000,
      retentionDays: 37,
      maxBatch: 5000,
      now: Date.now,
      onError: (err) => console.error('log metrics:', err.message),
      ...(defined as unknown as LogMetricsOptions),
    } as LogMetrics['o'];
    try {
      this.loginPath = new RegExp(this.o.loginPattern, 'i');
    } catch (err) {
      throw new Error(`logs.loginPattern is not a regular expression: ${(err as Error).message}`);
    }
    this.hosts = new BoundedNames(this.o.maxHosts);
    this.groups = new BoundedNames(this.o.maxPathGroups);
    this.store = new LogMetricsStore(join(options.dataDir, 'log-metrics.sqlite'));
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.position = this.store.position();
    this.sites = this.store.sites() as Record<string, SiteState>;
    for (const site of this.store.siteIds()) {
      const n = this.store.names(site);
      this.hosts.load(site, n.hosts);
      this.groups.load(site, n.groups);
    }
    await this.subscribe();
    if (this.o.idleAdvanceMs > 0) {
      this.timer = setInterval(() => {
        this.advanceIdleSites().catch((err: Error) => this.o.onError(err));
      }, this.o.idleAdvanceMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.ready = false;
    if (this.timer) clearInterval(this.timer);
    const sub = this.sub;
    this.sub = null;
    await sub?.stop();
    this.store.close();
  }

  status() {
    return { running: this.running, position: this.position, sites: Object.keys(this.sites).length };
  }

  private async subscribe(): Promise<void> {
    if (!this.running) return;
    // The stored position wins over the group's commit (which is not atomic with the store).
    await this.o.log.seek(this.o.topic, this.o.group, { position: this.position + 1 });
    const sub = this.o.log.consume(this.o.topic, this.o.group, async (records) => this.handle(records), {
      maxBatch: this.o.maxBatch,
    });
    this.sub = sub;
    this.ready = true;
    sub.done.catch((err: Error) => {
      if (!this.running || this.sub !== sub) return;
      this.ready = false;
      this.o.onError(new Error(`log metrics consumer stopped: ${err.message}; retrying`));
      this.sub = null;
      setTimeout(() => {
        if (this.running) this.subscribe().catch((e: Error) => this.o.onError(e));
      }, 1000).unref();
    });
  }

  private handle(records: StoredRecord[]): void {
    const rows = new Map<string, MinuteRow>();
    const failures = new Map<string, { site: string; minute: number; key: string; failures: number }>();
    const touched = new Set<string>();
    let last = this.position;
    for (const r of records) {
      if (r.position <= this.position) continue; // redelivered
      last = r.position;
      let rec: LogRecord;
      try {
        rec = JSON.parse(r.value) as LogRecord;
      } catch {
        this.o.onError(new Error(`logs record ${r.position} is not JSON; skipped by log metrics`));
        continue;
      }
      if (typeof rec.site_id !== 'string' || !Number.isFinite(rec.log_time)) continue;
      const site = rec.site_id;
      const minute = floorMinute(rec.log_time);
      const login = loginOf(rec, this.loginPath);
      if (rec.status === null && !login) continue; // not a request and not a login: nothing to count
      const host = this.hosts.name(site, rec.host ?? '(none)');
      const group = this.groups.name(site, pathGroup(rec.path));
      const id = `${site}\n${minute}\n${host}\n${group}`;
      let row = rows.get(id);
      if (!row) {
        row = emptyRow(site, minute, host, group);
        rows.set(id, row);
      }
      if (rec.status !== null) {
        row.requests++;
        const c = Math.floor(rec.status / 100);
        if (c === 2) row.s2xx++;
        else if (c === 3) row.s3xx++;
        else if (c === 4) row.s4xx++;
        else if (c === 5) row.s5xx++;
        row.bytes += rec.bytes ?? 0;
        if (rec.response_time_ms !== null && rec.response_time_ms >= 0) addTo(row.hist, rec.response_time_ms);
      }
      if (login) {
        row.loginAttempts++;
        if (login.failed) row.loginFailures++;
        for (const key of login.keys) {
          const fid = `${site}\n${minute}\n${key}`;
          const f = failures.get(fid) ?? { site, minute, key, failures: 0 };
          f.failures++;
          failures.set(fid, f);
        }
      }
      const t = Math.min(rec.log_time, Number.isFinite(rec.received_at) ? rec.received_at : rec.log_time);
      const s = this.state(site);
      if (t > s.maxSeen) s.maxSeen = t;
      touched.add(site);
    }
    if (last === this.position) return;
    this.store.apply({
      position: last,
      rows: [...rows.values()],
      failures: [...failures.values()],
      sites: this.sites,
    });
    this.position = last;
    this.lastBatchAt = this.o.now();
    for (const site of touched) this.evaluate(site);
    this.store.saveSites(this.sites);
    this.retention();
  }

  private state(site: string): SiteState {
    let s = this.sites[site];
    if (!s) {
      s = { maxSeen: 0, lastEvaluated: 0, active: [] };
      this.sites[site] = s;
    }
    return s;
  }

  /** Evaluates the minutes the site's watermark has passed since the last evaluation. */
  private evaluate(site: string): void {
    const s = this.state(site);
    const options = this.o.errors ? this.o.errors(site) : DEFAULT_ERRORS;
    const end = floorMinute(s.maxSeen - this.o.allowedLatenessMs);
    if (!options || end <= s.lastEvaluated) return;
    const rules: ErrorOptions = {
      ...options,
      series: options.series.filter((r) => LOG_SERIES.has(r.series)),
      keyed: options.keyed.filter((r) => LOG_SERIES.has(r.series)),
    };
    const first = this.store.firstMinute(site);
    if (first === null) return;
    // Old minutes (a replay of the retained topic, an import of history) are counted, not judged:
    // an alert about last week's 5xx would only page someone now.
    const recent = floorMinute(this.o.now()) - MAX_CATCH_UP_MINUTES * MINUTE;
    for (
      let at = Math.max(s.lastEvaluated + MINUTE, end - MAX_CATCH_UP_MINUTES * MINUTE, recent);
      at <= end;
      at += MINUTE
    ) {
      const signals = evaluateErrors({
        site,
        end: at,
        series: this.view(site, first, at),
        keyed: { keyed: (_series, from, to) => this.store.failuresByKey(site, from, to) },
        options: rules,
        active: new Set(s.active),
      }).map((sig) => {
        const labels = { ...sig.labels, source: 'logs' };
        if (sig.labels.alertname !== 'http_5xx') return { ...sig, labels };
        // Name the host when one host has most of the 5xx.
        const window = Number(sig.evidence?.windowMinutes ?? 5) * MINUTE;
        const hosts = this.store.errorsByHost(site, at - window, at);
        const total = hosts.reduce((n, h) => n + h.errors, 0);
        const top = hosts[0];
        const host =
          top && top.host !== '(none)' && top.host !== 'other' && top.errors >= 0.8 * total ? top.host : null;
        return { ...sig, labels, evidence: { ...sig.evidence, hosts, ...(host ? { host } : {}) } };
      });
      s.active = signals.map(errorSignalKey);
      s.lastEvaluated = at;
      const ev = withLogsQuery({ rule: LOG_ERRORS_RULE, site, at, signals });
      try {
        this.o.onEvaluation?.(ev);
      } catch (err) {
        this.o.onError(new Error(`log metrics: onEvaluation failed for ${site}: ${(err as Error).message}`));
      }
    }
  }

  /**
   * `logs.errors.http`, `logs.requests.http`, `logs.errors.login`, `logs.requests.login` per
   * minute (summed over the trailing `window` minutes), for the chart next to a log alert.
   * Minutes before the site's first line are unknown (null), later quiet ones 0.
   */
  points(site: string, metric: string, from: number, to: number, window = 1) {
    const column = SERIES_COLUMNS[metric.replace(/^logs\./, '')];
    if (!column) return [];
    const start = floorMinute(from);
    const first = this.store.firstMinute(site);
    const values = this.store.minuteTotals(site, column, start - (window - 1) * MINUTE, to);
    const out: { minute: number; value: number | null; expected: null }[] = [];
    for (let m = start; m < to && out.length < 2880; m += MINUTE) {
      let v: number | null = null;
      if (first !== null && m >= first) {
        v = 0;
        for (let k = 0; k < window; k++) v += values.get(m - k * MINUTE) ?? 0;
      }
      out.push({ minute: m, value: v, expected: null });
    }
    return out;
  }

  /** The http and login error series of a site, read from the stored minutes. */
  private view(site: string, start: number, end: number): SeriesView {
    const column = SERIES_COLUMNS;
    const covers = (from: number, to: number) => from >= start && to <= end && from <= to;
    return {
      start,
      end,
      covers,
      sum: (metric, from, to) => {
        if (!covers(from, to)) return null;
        const c = column[metric];
        return c ? this.store.sum(site, c, from, to) : 0;
      },
    };
  }

  /** With nothing left to read, log time follows the clock for quiet sites, so their minutes are evaluated. */
  private async advanceIdleSites(): Promise<void> {
    if (!this.running) return;
    const { lastPosition } = await this.o.log.stats(this.o.topic);
    const now = this.o.now();
    if (!this.running || lastPosition > this.position || now - this.lastBatchAt < 2_000) return;
    let changed = false;
    for (const [site, s] of Object.entries(this.sites)) {
      if (s.maxSeen === 0 || s.maxSeen >= now - 2_000) continue;
      s.maxSeen = now - 2_000;
      this.evaluate(site);
      changed = true;
    }
    if (changed) this.store.saveSites(this.sites);
  }

  private retention(): void {
    const now = this.o.now();
    if (now - this.lastRetention < 3_600_000) return;
    this.lastRetention = now;
    this.store.deleteBefore(now - this.o.retentionDays * DAY);
  }
}
