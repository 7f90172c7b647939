import { DEFAULT_ORDER_RATE, evaluateOrderRate, type OrderRateOptions } from '../detectors/order-rate.js';
import { MINUTE, WEEK } from '../detectors/series.js';
import { syntheticSeries } from '../detectors/synthetic.js';

/**
 * How fast the order-rate detector sees a change of a given size, as a function of the store's
 * order volume: synthetic weeks of Poisson orders with a daily rhythm, one change injected at a
 * busy hour per run, the detector (the same evaluateOrderRate) evaluated minute by minute. It
 * answers "how many orders a minute does a 30% drop need to be seen within 5 minutes?" without
 * simulating every page view of a store that size.
 */

export interface PowerOptions {
  ordersPerMinute: number;
  /** Relative change (-0.3 = 30% fewer orders). */
  change: number;
  minutes: number;
  runs: number;
  seed?: number;
  options?: OrderRateOptions;
}

export interface PowerResult {
  ordersPerMinute: number;
  /** Orders per minute at the incidents' hour (the rhythm makes it busier than the mean). */
  ordersAtIncident: number;
  change: number;
  detected: number;
  runs: number;
  /** Minutes from the change to the first signal, of the detected runs. */
  delays: number[];
}

const START = Date.UTC(2026, 0, 5); // a Monday

export function detectionPower(o: PowerOptions): PowerResult {
  const options = o.options ?? DEFAULT_ORDER_RATE;
  const direction = o.change < 0 ? 'drop' : 'spike';
  const delays: number[] = [];
  let detected = 0;
  let atIncident = 0;
  for (let run = 0; run < o.runs; run++) {
    // Weekdays of the fifth week, 15:00 UTC (a busy hour of the synthetic shop).
    const changeAt = START + 4 * WEEK + (run % 5) * 86_400_000 + 15 * 3_600_000;
    const series = syntheticSeries({
      startMs: START,
      endMs: changeAt + o.minutes * MINUTE,
      seed: (o.seed ?? 1) * 1000 + run,
      ordersPerMinute: o.ordersPerMinute,
      changes: [{ startMs: changeAt, endMs: changeAt + o.minutes * MINUTE, factor: 1 + o.change }],
    });
    atIncident += (series.sum('orders', changeAt - 60 * MINUTE, changeAt) ?? 0) / 60;
    for (let m = 1; m <= o.minutes; m++) {
      const { signals } = evaluateOrderRate({ site: 'power', end: changeAt + m * MINUTE, series, options });
      if (signals.some((s) => s.labels.direction === direction && s.labels.metric === 'orders')) {
        detected++;
        delays.push(m);
        break;
      }
    }
  }
  return {
    ordersPerMinute: o.ordersPerMinute,
    ordersAtIncident: atIncident / o.runs,
    change: o.change,
    detected,
    runs: o.runs,
    delays,
  };
}
