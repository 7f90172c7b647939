import type { Signal } from '../types.js';
import { chooseReference, expect } from './baseline.js';
import { MINUTE } from './series.js';
import { evidenceOf, type TrafficInput } from './traffic.js';

/**
 * bot_wave: bot sessions over the window far above their usual number at this time (same time
 * of week or day). Sessions, not requests: one scraper's visit is hundreds of requests, so
 * requests come in lumps that look like waves at night.
 */
export function botWave(input: TrafficInput): Signal | null {
  const { series, options: o } = input;
  const w = o.botWave.windowMinutes;
  const end = series.end;
  if (Number.isNaN(end)) return null;
  // Bots keep no weekly rhythm worth the few samples it gives: the same time on the last days.
  const base = { ...o.baseline, trendMinutes: 0, minWeeks: Number.POSITIVE_INFINITY };
  const ref = chooseReference(series, end, w, base);
  if (!ref) return null;
  const exp = expect(series, 'bot_sessions', end, w, ref, base, 0);
  const actual = series.sum('bot_sessions', end - w * MINUTE, end);
  if (!exp || actual === null) return null;
  // Few bot sessions make a noisy median: judge against the larger of median and mean, with room for day-to-day swings.
  const samples = ref.offsets.map(
    (off) => series.sum('bot_sessions', end - off - w * MINUTE, end - off) ?? 0,
  );
  const usual = Math.max(exp.expected, samples.reduce((a, b) => a + b, 0) / samples.length);
  const held = input.botWaveActive === true;
  const factor = held ? 1 + (o.botWave.factor - 1) / 2 : o.botWave.factor;
  const z = (actual - usual) / Math.sqrt(1.5 * usual + 1 + (1.4826 * exp.mad) ** 2);
  if (actual < factor * usual || actual - usual < o.botWave.minExtra || z < (held ? 2.5 : 5)) return null;
  const requests = series.sum('bot_requests', end - w * MINUTE, end) ?? 0;
  const all = series.sum('requests', end - w * MINUTE, end) ?? 0;
  return {
    labels: { alertname: 'bot_wave', site: input.site },
    severity: 'warning',
    summary: `Bot wave: ${Math.round(actual)} bot sessions in the last ${w} min (${requests} requests), ${(actual / Math.max(1, usual)).toFixed(1)}× the usual ${Math.round(usual)}`,
    at: input.at,
    value: actual,
    band: { expected: usual, lower: 0, upper: factor * usual },
    evidence: {
      windowMinutes: w,
      baseline: ref.kind,
      botRequests: requests,
      botShare: all > 0 ? Math.round((requests / all) * 1000) / 1000 : null,
      scrapers: [...input.offenders.values()]
        .filter((x) => x.reasons.includes('scraper') && x.lastFlagged >= input.at - w * MINUTE)
        .slice(0, 20)
        .map(evidenceOf),
    },
  };
}
