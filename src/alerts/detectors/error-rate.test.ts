import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ERRORS, evaluateErrors, type KeyedErrorSource } from './error-rate.js';
import { HOUR, MINUTE, MinuteSeries } from './series.js';

const T0 = Date.UTC(2026, 10, 23, 12);

/** A day of checkout traffic: 40 payment attempts a minute, 1% failing; `spike` sets the failing share at the end. */
function checkoutSeries(spike: { minutes: number; rate: number } | null, series = 'checkout') {
  const s = new MinuteSeries();
  for (let m = T0 - 24 * HOUR; m < T0; m += MINUTE) {
    const inSpike = spike !== null && m >= T0 - spike.minutes * MINUTE;
    const requests = 40;
    const errors = inSpike ? Math.round(requests * spike.rate) : m % (4 * MINUTE) === 0 ? 1 : 0;
    s.append({ minute: m, values: { [`errors.${series}`]: errors, [`requests.${series}`]: requests } });
  }
  return s;
}

describe('error-rate detector', () => {
  it('stays quiet at the usual background error rate', () => {
    const signals = evaluateErrors({
      site: 'shop',
      end: T0,
      series: checkoutSeries(null),
      options: DEFAULT_ERRORS,
    });
    assert.deepEqual(signals, []);
  });

  it('fires checkout_errors when the failing share jumps, with the usual rate as the band', () => {
    const signals = evaluateErrors({
      site: 'shop',
      end: T0,
      series: checkoutSeries({ minutes: 3, rate: 0.3 }),
      options: DEFAULT_ERRORS,
    });
    assert.equal(signals.length, 1);
    const [s] = signals;
    assert.deepEqual(s.labels, { alertname: 'checkout_errors', site: 'shop', series: 'checkout' });
    assert.equal(s.severity, 'critical');
    assert.ok(s.value! > 0.15 && s.band!.expected < 0.01, `${s.value} vs ${s.band!.expected}`);
    assert.match(
      s.summary,
      /^checkout error rate \d+\.\d% over the last 5 min \(3\d of 200\), usually 0\.\d+%$/,
    );
  });

  it('reads any series with the same pair of names, e.g. 5xx from server logs', () => {
    const signals = evaluateErrors({
      site: 'shop',
      end: T0,
      series: checkoutSeries({ minutes: 5, rate: 0.5 }, 'http'),
      options: DEFAULT_ERRORS,
    });
    assert.deepEqual(
      signals.map((s) => s.labels.alertname),
      ['http_5xx'],
    );
  });

  it('fires failed_logins for an account or IP that fails too often', () => {
    const keyed: KeyedErrorSource = {
      keyed: (series) =>
        new Map(
          series === 'login'
            ? [
                ['user:42', 14],
                ['ip:10.1.2.0', 3],
              ]
            : [],
        ),
    };
    const signals = evaluateErrors({
      site: 'shop',
      end: T0,
      series: new MinuteSeries(),
      keyed,
      options: DEFAULT_ERRORS,
    });
    assert.deepEqual(
      signals.map((s) => [s.labels.alertname, s.labels.key]),
      [['failed_logins', 'user:42']],
    );
    assert.match(signals[0].summary, /14 failed login attempts for user:42 in the last 15 min/);
  });
});
