import { type DemoIncident, demoIncidents, generateDemo } from '../../demo/generator.js';
import { fromWire, type IngestContext } from '../../events/normalise.js';
import { fromCanonical } from '../detector-event.js';
import { MemoryBreakdowns } from '../detectors/root-cause.js';
import {
  DEFAULT_SETTINGS,
  DEFAULT_SITE_OPTIONS,
  type DetectorSettings,
  SiteDetection,
} from '../site-detection.js';
import type { Evaluation, Signal } from '../types.js';

/**
 * Replays the demo store's backfill through the detectors: the simulator's events are
 * normalised exactly as `storepulse demo --mode backfill` does (fromWire, IP anonymisation)
 * and fed in time order to SiteDetection — the class the live engine runs — which closes
 * minutes, evaluates every rule each minute and every 10 s, and reports evaluations. Signals
 * are folded into episodes (from the first evaluation that has a signal to the first that no
 * longer has it), which scoring.ts matches against the labelled incidents.
 */

export interface ReplayOptions {
  days: number;
  seed: number;
  eventsPerDay: number;
  /** The demo's cart-propensity multiplier (orders per event); see GenerateOptions.conversion. */
  conversion?: number;
  /** Start of the simulated range (default Monday 2026-01-05 00:00 UTC, so results repeat). */
  startMs?: number;
  site?: string;
  /** As the collector's default (ingest.anonymizeIp): offenders are /24 networks then. */
  anonymizeIp?: boolean;
  settings?: DetectorSettings;
  onProgress?: (fraction: number, events: number) => void;
  /** Called with the site's detection state at the end (its series, for tuning and inspection). */
  inspect?: (site: SiteDetection) => void;
}

export interface Episode {
  rule: string;
  alertname: string;
  labels: Record<string, string>;
  /** First and last evaluation with the signal, and the first one without it (null if still on). */
  start: number;
  last: number;
  end: number | null;
  summary: string;
  evidence?: Record<string, unknown>;
}

export interface ReplayResult {
  startMs: number;
  endMs: number;
  events: number;
  minutes: number;
  incidents: DemoIncident[];
  episodes: Episode[];
  elapsedMs: number;
}

export const DEFAULT_SCORING_START = Date.UTC(2026, 0, 5);
const DAY = 86_400_000;

export async function replayDemo(o: ReplayOptions): Promise<ReplayResult> {
  const started = performance.now();
  const startMs = o.startMs ?? DEFAULT_SCORING_START;
  const endMs = startMs + o.days * DAY;
  const siteId = o.site ?? 'demo';
  const incidents = demoIncidents(startMs, o.days, o.seed);
  const settings = o.settings ?? DEFAULT_SETTINGS;
  const site = new SiteDetection(siteId, () => settings, new MemoryBreakdowns(), {
    ...DEFAULT_SITE_OPTIONS,
    anonymizedIps: o.anonymizeIp ?? true,
  });
  const episodes = new EpisodeTracker();
  const hooks = { emit: (e: Evaluation) => episodes.add(e) };
  const ctx: IngestContext = {
    siteId,
    source: 'demo',
    receivedAt: 0,
    ip: null,
    userAgent: null,
    salt: `scoring-${o.seed}`,
    anonymizeIp: o.anonymizeIp ?? true,
    maxFutureMs: Number.POSITIVE_INFINITY,
    maxPastMs: Number.POSITIVE_INFINITY,
  };
  let events = 0;
  let nextProgress = startMs;
  for (const item of generateDemo({
    startMs,
    endMs,
    seed: o.seed,
    eventsPerDay: o.eventsPerDay,
    conversion: o.conversion,
    incidents,
    timeFormat: 'ms',
  })) {
    const t = item.event.time as number;
    ctx.receivedAt = t + 200; // arrival a moment after the event, as from a live tracker
    ctx.ip = item.ip;
    ctx.userAgent = item.userAgent;
    const m = fromWire(item.event, ctx);
    if (!m.ok) continue;
    site.ingest(fromCanonical(m.value), hooks);
    events++;
    if (t >= nextProgress) {
      nextProgress = t + 3_600_000;
      o.onProgress?.((t - startMs) / (endMs - startMs), events);
      // Let timers and I/O run now and then: a replay takes minutes.
      await new Promise((r) => setImmediate(r));
    }
  }
  site.advance(endMs + 2 * 60_000, hooks);
  o.onProgress?.(1, events);
  o.inspect?.(site);
  return {
    startMs,
    endMs,
    events,
    minutes: site.series.minutes,
    incidents,
    episodes: episodes.finish(),
    elapsedMs: performance.now() - started,
  };
}

/** Folds evaluations into signal episodes, per rule and label set. */
export class EpisodeTracker {
  private readonly open = new Map<string, Episode>();
  private readonly done: Episode[] = [];

  add(e: Evaluation): void {
    const seen = new Set<string>();
    for (const s of e.signals) {
      const key = `${e.rule}\u0000${labelKey(s)}`;
      seen.add(key);
      const ep = this.open.get(key);
      if (ep) ep.last = e.at;
      else
        this.open.set(key, {
          rule: e.rule,
          alertname: s.labels.alertname,
          labels: s.labels,
          start: e.at,
          last: e.at,
          end: null,
          summary: s.summary,
          evidence: s.evidence,
        });
    }
    for (const [key, ep] of this.open) {
      if (ep.rule !== e.rule || seen.has(key)) continue;
      ep.end = e.at;
      this.done.push(ep);
      this.open.delete(key);
    }
  }

  finish(): Episode[] {
    return [...this.done, ...this.open.values()].sort((a, b) => a.start - b.start);
  }
}

const labelKey = (s: Signal) =>
  Object.keys(s.labels)
    .sort()
    .map((k) => `${k}=${s.labels[k]}`)
    .join(',');
