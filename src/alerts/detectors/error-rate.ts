import type { Signal } from '../types.js';
import { MINUTE, type SeriesView } from './series.js';

/**
 * Error signals on a generic pair of per-minute series, `errors.<name>` and
 * `requests.<name>`: today checkout errors from events (requests = payment attempts) and
 * failed logins; log-derived metrics (5xx of server logs) can feed the same two series
 * later without a new rule. A series fires when its error rate over the window is well above
 * its usual rate (the day before, leaving out the last half hour) — several times higher,
 * with enough errors to tell and a binomial z beyond the threshold. Per-key error counts
 * (failed logins per account or IP) fire on their own when one key fails too often.
 */

export interface ErrorSeriesRule {
  /** The series name: errors.<series> / requests.<series>. */
  series: string;
  /** alertname of the signal (checkout errors inhibit the order-rate alert they explain). */
  alertname: string;
  windowMinutes: number;
  minErrors: number;
  /** The window's error rate must reach this… */
  minRate: number;
  /** …and this multiple of the usual rate. */
  factor: number;
  z: number;
  severity: Signal['severity'];
}

export interface KeyedErrorRule {
  series: string;
  alertname: string;
  windowMinutes: number;
  /** Errors one key (account, IP) may have in the window. */
  maxErrors: number;
  severity: Signal['severity'];
}

export interface ErrorOptions {
  series: ErrorSeriesRule[];
  keyed: KeyedErrorRule[];
  /** The usual rate is measured over this many hours before the window (minus the gap). */
  baselineHours: number;
  baselineGapMinutes: number;
}

export const DEFAULT_ERRORS: ErrorOptions = {
  series: [
    {
      series: 'checkout',
      alertname: 'checkout_errors',
      windowMinutes: 5,
      minErrors: 5,
      minRate: 0.05,
      factor: 4,
      z: 5,
      severity: 'critical',
    },
    {
      series: 'login',
      alertname: 'login_errors',
      windowMinutes: 5,
      minErrors: 20,
      minRate: 0.2,
      factor: 4,
      z: 5,
      severity: 'warning',
    },
    {
      series: 'http',
      alertname: 'http_5xx',
      windowMinutes: 5,
      minErrors: 20,
      minRate: 0.02,
      factor: 5,
      z: 5,
      severity: 'critical',
    },
  ],
  keyed: [
    { series: 'login', alertname: 'failed_logins', windowMinutes: 15, maxErrors: 10, severity: 'warning' },
  ],
  baselineHours: 24,
  baselineGapMinutes: 30,
};

/** Per-key error counts of recent minutes (the engine keeps the last hour). */
export interface KeyedErrorSource {
  keyed(series: string, from: number, to: number): Map<string, number>;
}

export interface ErrorInput {
  site: string;
  /** End of the last closed minute. */
  end: number;
  series: SeriesView;
  keyed?: KeyedErrorSource;
  options: ErrorOptions;
  /** alertname:key of signals that fired last time (hysteresis: they hold at half the thresholds). */
  active?: ReadonlySet<string>;
}

export function evaluateErrors(input: ErrorInput): Signal[] {
  const { series, end, options: o } = input;
  const signals: Signal[] = [];
  for (const rule of o.series) {
    const from = end - rule.windowMinutes * MINUTE;
    const errors = series.sum(`errors.${rule.series}`, from, end);
    const requests = series.sum(`requests.${rule.series}`, from, end);
    if (errors === null || requests === null || errors === 0) continue;
    const baseTo = end - o.baselineGapMinutes * MINUTE;
    const baseFrom = Math.max(series.start, baseTo - o.baselineHours * 60 * MINUTE);
    const usualErrors = series.sum(`errors.${rule.series}`, baseFrom, baseTo) ?? 0;
    const usualRequests = series.sum(`requests.${rule.series}`, baseFrom, baseTo) ?? 0;
    // A little prior keeps a series with no history (or no errors yet) from having a zero usual rate.
    const usual = (usualErrors + 0.5) / (usualRequests + 100);
    const n = Math.max(requests, errors);
    const rate = errors / n;
    const sigma = Math.sqrt(n * usual * (1 - usual));
    const z = sigma > 0 ? (errors - n * usual) / sigma : 0;
    const held = input.active?.has(rule.alertname) ?? false;
    const k = held ? 0.5 : 1;
    if (
      errors < rule.minErrors * k ||
      rate < rule.minRate * k ||
      rate < rule.factor * k * usual ||
      z < rule.z * k
    )
      continue;
    signals.push({
      labels: { alertname: rule.alertname, site: input.site, series: rule.series },
      severity: rule.severity,
      summary:
        `${rule.series} error rate ${pct(rate)} over the last ${rule.windowMinutes} min ` +
        `(${errors} of ${n}), usually ${pct(usual)}`,
      at: end,
      value: rate,
      band: { expected: usual, lower: 0, upper: Math.max(rule.minRate, rule.factor * usual) },
      evidence: {
        windowMinutes: rule.windowMinutes,
        errors,
        requests: n,
        usualRate: usual,
        z: Math.round(z * 100) / 100,
      },
    });
  }
  if (input.keyed) {
    for (const rule of o.keyed) {
      const counts = input.keyed.keyed(rule.series, end - rule.windowMinutes * MINUTE, end);
      for (const [key, errors] of counts) {
        const held = input.active?.has(`${rule.alertname}:${key}`) ?? false;
        if (errors < (held ? rule.maxErrors / 2 : rule.maxErrors)) continue;
        signals.push({
          labels: { alertname: rule.alertname, site: input.site, series: rule.series, key },
          severity: rule.severity,
          summary: `${errors} failed ${rule.series} attempts for ${key} in the last ${rule.windowMinutes} min`,
          at: end,
          value: errors,
          evidence: { windowMinutes: rule.windowMinutes, errors, limit: rule.maxErrors },
        });
      }
    }
  }
  return signals;
}

/** The key that identifies a signal for hysteresis. */
export function errorSignalKey(s: Signal): string {
  return s.labels.key ? `${s.labels.alertname}:${s.labels.key}` : s.labels.alertname;
}

const pct = (r: number) => `${(r * 100).toFixed(r < 0.01 ? 2 : 1)}%`;
