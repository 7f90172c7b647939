import { join } from 'node:path';
import type { CanonicalEvent } from '../events/model.js';
import { type EventLog, type StoredRecord, type Subscription, TOPICS } from '../stream/event-log.js';
import { DetectStore } from './detect-store.js';
import { fromCanonical } from './detector-event.js';
import { type BlocklistOptions, blocklist } from './detectors/blocklist.js';
import { DAY, floorMinute, MINUTE, type MinuteFacts } from './detectors/series.js';
import type { ThresholdRule } from './detectors/threshold.js';
import type { Offender } from './detectors/traffic.js';
import { loadLakeHistory } from './lake-history.js';
import { withLogsQuery } from './logs-query.js';
import {
  DEFAULT_SETTINGS,
  DEFAULT_SITE_OPTIONS,
  type DetectorSettings,
  SiteDetection,
  seriesPoints,
} from './site-detection.js';
import { TailPositions } from './tail-positions.js';
import type { Evaluation } from './types.js';

export interface DetectionEngineOptions {
  log: EventLog;
  /** The state lives in `<dataDir>/detect.sqlite`; lake history is read from `<dataDir>/lake`. */
  dataDir: string;
  /** Called for every evaluation of every rule and site (the alert manager's `process`). */
  onEvaluation: (e: Evaluation) => void;
  /** Detector settings per site (default: DEFAULT_SETTINGS); threshold rules are added to them. */
  settings?: (site: string) => DetectorSettings;
  thresholdRules?: ThresholdRule[];
  eventsTopic?: string;
  group?: string;
  allowedLatenessMs?: number;
  trafficLatenessMs?: number;
  /** The collector anonymises IPs (config ingest.anonymizeIp): offenders are /24 networks then. */
  anonymizedIps?: boolean;
  retentionDays?: number;
  /** Days of per-minute history to load from the lake on first start (0: none). */
  historyDays?: number;
  /** Minutes of stream replayed into the sliding state (sessions, counters, open minutes) on start. */
  tailMinutes?: number;
  checkpointIntervalMs?: number;
  maxBatch?: number;
  /** When caught up, move idle sites' event time forward with the clock this often (0: never). */
  idleAdvanceMs?: number;
  now?: () => number;
  onError?: (err: Error) => void;
}

export interface DetectionStatus {
  running: boolean;
  position: number;
  checkpointed: number;
  /** Minutes before this come from the lake, after it from the stream. */
  streamFrom: number | null;
  sites: {
    site: string;
    watermark: number | null;
    history: { from: number; to: number } | null;
    lateEvents: number;
    offenders: number;
  }[];
}

export const DETECT_GROUP = 'detect';

/**
 * The live detection runtime: consumes the events topic as group 'detect', keeps per-minute
 * series per site in detect.sqlite (with weeks of history for the baselines, loaded from the
 * lake on first start), and evaluates every detector as event time passes each minute and
 * each 10 s (SiteDetection), calling `onEvaluation`. It knows nothing of alerts: the alert
 * manager consumes the evaluations.
 *
 * Exactly once across crashes: closed minutes, watermarks, firing state and offenders are
 * saved with the stream position in one transaction; open minutes, sessions and sliding
 * counters are rebuilt on start by replaying the stream tail (`tailMinutes` of event time)
 * up to that position, where records count only towards what was not saved. Evaluations are
 * at least once: those made after the last checkpoint are made again after a crash.
 *
 *   const engine = new DetectionEngine({ log, dataDir, onEvaluation: (e) => alerts.process(e),
 *     anonymizedIps: config.ingest.anonymizeIp, allowedLatenessMs: config.realtime.allowedLatenessMs });
 *   await engine.start(); … await engine.stop();
 */
export class DetectionEngine {
  private readonly o: Required<Omit<DetectionEngineOptions, 'settings' | 'thresholdRules'>>;
  private readonly settingsFor: (site: string) => DetectorSettings;
  private thresholds: ThresholdRule[];
  private store: DetectStore | null = null;
  private readonly sites = new Map<string, SiteDetection>();
  private position = 0;
  private checkpointed = 0;
  private streamFrom: number | null = null;
  private tail: TailPositions;
  private pendingMinutes: { site: string; facts: MinuteFacts }[] = [];
  private dirty = false;
  private sub: Subscription | null = null;
  private timers: NodeJS.Timeout[] = [];
  private lastBatchAt = 0;
  private lastRetention = 0;
  private running = false;

  constructor(options: DetectionEngineOptions) {
    const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.o = {
      eventsTopic: TOPICS.events,
      group: DETECT_GROUP,
      allowedLatenessMs: DEFAULT_SITE_OPTIONS.allowedLatenessMs,
      trafficLatenessMs: DEFAULT_SITE_OPTIONS.trafficLatenessMs,
      anonymizedIps: true,
      retentionDays: 37,
      historyDays: 35,
      tailMinutes: 40,
      checkpointIntervalMs: 1000,
      maxBatch: 1000,
      idleAdvanceMs: 5000,
      now: Date.now,
      onError: (err) => console.error('detect:', err.message),
      ...(defined as unknown as DetectionEngineOptions),
    } as Required<Omit<DetectionEngineOptions, 'settings' | 'thresholdRules'>>;
    this.settingsFor = options.settings ?? (() => DEFAULT_SETTINGS);
    this.tail = new TailPositions(this.o.tailMinutes * MINUTE);
    this.thresholds = options.thresholdRules ?? [];
  }

  /** Loads the checkpoint (and lake history on first start), rebuilds the sliding state from the stream tail, consumes. */
  async start(): Promise<void> {
    if (this.running) return;
    const store = new DetectStore(join(this.o.dataDir, 'detect.sqlite'));
    this.store = store;
    const from = store.meta('stream_from');
    if (from === null) await this.firstStart(store);
    else this.streamFrom = Number(from);
    this.position = store.position();
    this.checkpointed = this.position;
    for (const id of store.siteIds()) this.site(id);
    for (const cp of store.siteStates()) this.site(cp.site).restore(cp);
    await this.replayTail(store.tailFrom());
    this.running = true;
    await this.subscribe();
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(() => {
        try {
          fn();
        } catch (err) {
          this.o.onError(err as Error);
        }
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.o.checkpointIntervalMs, () => {
      if (this.dirty) this.checkpoint();
    });
    if (this.o.idleAdvanceMs > 0)
      every(this.o.idleAdvanceMs, () => {
        this.advanceIdleSites().catch((err: Error) => this.o.onError(err));
      });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.sub?.stop();
    this.sub = null;
    this.checkpoint();
    this.store?.close();
    this.store = null;
    this.sites.clear();
    this.tail = new TailPositions(this.o.tailMinutes * MINUTE);
  }

  setThresholdRules(rules: ThresholdRule[]): void {
    this.thresholds = rules;
  }

  /**
   * Loads per-minute history from the lake for the days before what each site holds (after a
   * backfill or an import into a running system). Safe to repeat: it only fills the past.
   */
  async loadHistory(o: { days?: number } = {}): Promise<{ sites: number; minutes: number }> {
    const store = this.requireStore();
    const until = this.streamFrom ?? floorMinute(this.o.now());
    const history = await loadLakeHistory({
      dataDir: this.o.dataDir,
      from: until - (o.days ?? this.o.historyDays) * DAY,
      to: until,
    });
    let minutes = 0;
    for (const [id, facts] of history) {
      const added = this.site(id).prependHistory(facts);
      if (added.length > 0) store.saveHistory(id, added);
      minutes += added.length;
    }
    return { sites: history.size, minutes };
  }

  status(): DetectionStatus {
    return {
      running: this.running,
      position: this.position,
      checkpointed: this.checkpointed,
      streamFrom: this.streamFrom,
      sites: [...this.sites.values()].map((s) => ({
        site: s.site,
        watermark: s.maxSeen > 0 ? s.watermark : null,
        history: s.series.minutes > 0 ? { from: s.series.start, to: s.series.end } : null,
        lateEvents: s.lateEvents,
        offenders: s.offenders.size,
      })),
    };
  }

  siteIds(): string[] {
    return [...this.sites.keys()].sort();
  }

  /** The live list of offending IPs, networks and sessions of a site, most recently flagged first. */
  offenders(site: string): Offender[] {
    return [...(this.sites.get(site)?.offenders.values() ?? [])].sort(
      (a, b) => b.lastFlagged - a.lastFlagged,
    );
  }

  blocklist(site: string, format: BlocklistOptions['format'], reasons?: BlocklistOptions['reasons']): string {
    return blocklist(this.offenders(site), {
      format,
      reasons,
      site,
      anonymizedIps: this.o.anonymizedIps,
      now: this.o.now(),
    });
  }

  /** A metric per minute with its seasonal expectation, for charts next to an alert. */
  points(site: string, metric: string, from: number, to: number, window?: number) {
    const s = this.sites.get(site);
    return s ? seriesPoints(s, metric, from, to, window) : [];
  }

  private async firstStart(store: DetectStore): Promise<void> {
    const now = this.o.now();
    const until = floorMinute(now);
    this.streamFrom = until;
    // Start the stream where its records stop being history, less the tail that warms sessions and counters.
    const [first] = await this.o.log.read(
      this.o.eventsTopic,
      { time: until - this.o.tailMinutes * MINUTE },
      1,
    );
    const position = first ? first.position - 1 : (await this.o.log.stats(this.o.eventsTopic)).lastPosition;
    if (this.o.historyDays > 0) {
      try {
        const history = await loadLakeHistory({
          dataDir: this.o.dataDir,
          from: until - this.o.historyDays * DAY,
          to: until,
        });
        for (const [site, facts] of history) store.saveHistory(site, facts);
      } catch (err) {
        this.o.onError(new Error(`detect: could not load history from the lake: ${(err as Error).message}`));
      }
    }
    store.save({ position, tailFrom: position + 1, sites: [], minutes: [] });
    store.setMeta('stream_from', String(until));
  }

  private site(id: string): SiteDetection {
    let s = this.sites.get(id);
    if (!s) {
      const store = this.requireStore();
      s = new SiteDetection(id, () => this.settingsOf(id), store.breakdowns(id), {
        ...DEFAULT_SITE_OPTIONS,
        allowedLatenessMs: this.o.allowedLatenessMs,
        trafficLatenessMs: this.o.trafficLatenessMs,
        retentionMs: this.o.retentionDays * DAY,
        anonymizedIps: this.o.anonymizedIps,
      });
      s.historyUntil = this.streamFrom ?? 0;
      s.loadMinutes(store.minutes(id));
      if (s.series.minutes > 0 && this.streamFrom !== null && s.series.end < this.streamFrom)
        s.series.coverUntil(this.streamFrom); // no events in the lake up to the stream's start: quiet
      this.sites.set(id, s);
    }
    return s;
  }

  private settingsOf(site: string): DetectorSettings {
    const base = this.settingsFor(site);
    return this.thresholds.length > 0
      ? { ...base, thresholds: [...base.thresholds, ...this.thresholds] }
      : base;
  }

  private readonly hookCache = new Map<string, ReturnType<DetectionEngine['makeHooks']>>();

  private hooks(site: string) {
    let h = this.hookCache.get(site);
    if (!h) {
      h = this.makeHooks(site);
      this.hookCache.set(site, h);
    }
    return h;
  }

  private makeHooks(site: string) {
    return {
      emit: (e: Evaluation) => {
        try {
          this.o.onEvaluation(withLogsQuery(e));
        } catch (err) {
          this.o.onError(
            new Error(`detect: onEvaluation failed for ${e.rule}/${e.site}: ${(err as Error).message}`),
          );
        }
      },
      closed: (facts: MinuteFacts) => this.pendingMinutes.push({ site, facts }),
    };
  }

  /** Rebuilds open minutes, sessions and counters from records in [tailFrom, position]. */
  private async replayTail(tailFrom: number): Promise<void> {
    const silent = { emit: () => {} };
    let next = tailFrom;
    while (next <= this.position) {
      const records = await this.o.log.read(this.o.eventsTopic, { position: next }, 5000);
      if (records.length === 0) break;
      for (const r of records) {
        if (r.position > this.position) return;
        const e = this.parse(r);
        if (e) this.site(e.site_id).ingest(fromCanonical(e), silent, true);
        if (e) this.tail.track(e.site_id, e.event_time, r.position);
        next = r.position + 1;
      }
    }
  }

  private async subscribe(): Promise<void> {
    await this.o.log.seek(this.o.eventsTopic, this.o.group, { position: this.position + 1 });
    const sub = this.o.log.consume(
      this.o.eventsTopic,
      this.o.group,
      async (records) => this.handle(records),
      {
        maxBatch: this.o.maxBatch,
      },
    );
    sub.done.catch((err: Error) => {
      if (!this.running || this.sub !== sub) return;
      this.o.onError(new Error(`detect: consumer stopped: ${err.message}; retrying`));
      this.sub = null;
      setTimeout(() => {
        if (this.running && !this.sub) this.subscribe().catch((e: Error) => this.o.onError(e));
      }, 1000).unref();
    });
    this.sub = sub;
  }

  private handle(records: StoredRecord[]): void {
    for (const r of records) {
      // Redelivered records (at-least-once delivery) are skipped.
      if (r.position <= this.position) continue;
      const e = this.parse(r);
      if (e) this.site(e.site_id).ingest(fromCanonical(e), this.hooks(e.site_id));
      if (e) this.tail.track(e.site_id, e.event_time, r.position);
      this.position = r.position;
    }
    this.dirty = true;
    this.lastBatchAt = this.o.now();
  }

  private parse(r: StoredRecord): CanonicalEvent | null {
    try {
      const e = JSON.parse(r.value) as CanonicalEvent;
      if (typeof e?.site_id === 'string' && Number.isFinite(e.event_time)) return e;
    } catch {}
    this.o.onError(new Error(`detect: stream record ${r.position} is not a canonical event; skipped`));
    return null;
  }

  /** Saves closed minutes, site states and the position in one transaction. */
  checkpoint(): void {
    const store = this.store;
    if (!store) return;
    const now = this.o.now();
    const retain = now - this.lastRetention > 3_600_000;
    try {
      store.save({
        position: this.position,
        tailFrom: this.tail.from(this.position, (site: string) => this.sites.get(site)?.maxSeen ?? 0),
        sites: [...this.sites.values()].map((s) => s.checkpoint()),
        minutes: this.pendingMinutes,
        retainFrom: retain ? now - this.o.retentionDays * DAY : undefined,
      });
    } catch (err) {
      this.o.onError(new Error(`detect: checkpoint failed: ${(err as Error).message}`));
      return;
    }
    if (retain) this.lastRetention = now;
    this.pendingMinutes = [];
    this.checkpointed = this.position;
    this.dirty = false;
  }

  /**
   * With no backlog, event time follows the clock for sites that went quiet: their minutes
   * close and are evaluated, so "orders stopped" shows even when nothing arrives at all.
   */
  private async advanceIdleSites(): Promise<void> {
    if (!this.running) return;
    // Only with nothing left to read: while there is a backlog, event time is driven by the events.
    const { lastPosition } = await this.o.log.stats(this.o.eventsTopic);
    const now = this.o.now();
    if (!this.running || lastPosition > this.position || now - this.lastBatchAt < 2_000) return;
    const t = now - 2_000;
    for (const s of this.sites.values()) {
      if (s.maxSeen === 0 || s.maxSeen >= t) continue;
      s.advance(t, this.hooks(s.site));
      this.dirty = true;
    }
  }

  private requireStore(): DetectStore {
    if (!this.store) throw new Error('start the detection engine first');
    return this.store;
  }
}
