import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BadRecord, CanonicalEvent } from '../events/model.js';
import { replayLakeEvents } from '../lake/replay.js';
import { type EventLog, type StoredRecord, type Subscription, TOPICS } from '../stream/event-log.js';
import { CheckpointStore, type WindowRow } from './checkpoint-store.js';
import { RecentFeed, WindowAggregate } from './metrics.js';
import { buildSnapshot, type Snapshot, type SnapshotQuery } from './snapshot.js';
import {
  DEFAULT_WINDOW_OPTIONS,
  HOUR,
  type Resolution,
  type SiteWindows,
  type Window,
  WindowEngine,
  type WindowOptions,
} from './windows.js';

export interface RealtimeOptions {
  log: EventLog;
  /** The checkpoint lives in `<dataDir>/realtime.sqlite`. */
  dataDir: string;
  eventsTopic?: string;
  /** Quarantined records, counted per site as abnormal; null to not consume them. */
  badRecordsTopic?: string | null;
  group?: string;
  /** The lake sink's consumer group: a rebuild from the lake resumes the stream after its position. */
  lakeGroup?: string;
  allowedLatenessMs?: number;
  topK?: number;
  includeBots?: boolean;
  feedSize?: number;
  /** Checkpoint after this many handled batches, or this long after the last one, whichever first. */
  checkpointEveryBatches?: number;
  checkpointIntervalMs?: number;
  /** Closed windows kept in the checkpoint DB, behind each site's watermark. */
  retentionMs?: Partial<Record<Resolution, number>>;
  maxBatch?: number;
  /** Least time between two onUpdate calls for one site. */
  updateIntervalMs?: number;
  onError?: (err: Error) => void;
}

export interface RealtimeUpdate {
  siteId: string;
  at: number;
  snapshot: Snapshot;
}

export interface RealtimeStatus {
  running: boolean;
  /** Last stream position reflected in the state, per topic. */
  positions: Record<string, number>;
  /** Positions in the last checkpoint: a crash now would resume after these. */
  checkpointed: Record<string, number>;
  /** Records that were not readable events (also counted per site where the site is known). */
  invalidRecords: number;
  lastCheckpoint: { at: number; count: number } | null;
  sites: { siteId: string; watermark: number | null; windowsInMemory: number }[];
}

export const REALTIME_GROUP = 'realtime';
const DEFAULT_RETENTION: Record<Resolution, number> = { minute: 48 * HOUR, hour: 30 * 24 * HOUR };

/**
 * Stream → live metrics. Consumes the events (and quarantine) topics as group 'realtime', but
 * the checkpoint DB, not the group, is the source of truth: state and positions are saved in
 * one transaction, and on start the group is moved to just after the checkpointed positions
 * (the group's own commit is not atomic with the checkpoint). A restart, even after SIGKILL,
 * thus neither loses nor double-counts a record.
 *
 * Records are applied synchronously, one at a time, with the position advanced per record, so
 * a checkpoint taken between batches is always consistent.
 */
export class RealtimeProcessor {
  private readonly o: Required<Omit<RealtimeOptions, 'onError' | 'retentionMs' | 'badRecordsTopic'>> & {
    badRecordsTopic: string | null;
    retentionMs: Record<Resolution, number>;
    onError: (err: Error) => void;
  };
  private readonly windowOptions: WindowOptions;
  private engine: WindowEngine;
  private store: CheckpointStore | null = null;
  private positions: Record<string, number> = {};
  private checkpointed: Record<string, number> = {};
  private subs: Subscription[] = [];
  private batchesSinceCheckpoint = 0;
  private lastCheckpointAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private invalidRecords = 0;
  private readonly listeners = new Set<(u: RealtimeUpdate) => void>();
  private readonly lastEmit = new Map<string, number>();
  private readonly pendingEmit = new Map<string, NodeJS.Timeout>();

  constructor(options: RealtimeOptions) {
    // An option given as undefined (an unset config value) keeps its default.
    const opts = Object.fromEntries(
      Object.entries(options).filter(([, v]) => v !== undefined),
    ) as unknown as RealtimeOptions;
    this.o = {
      eventsTopic: TOPICS.events,
      group: REALTIME_GROUP,
      lakeGroup: 'lake',
      allowedLatenessMs: DEFAULT_WINDOW_OPTIONS.allowedLatenessMs,
      topK: DEFAULT_WINDOW_OPTIONS.topK,
      includeBots: false,
      feedSize: DEFAULT_WINDOW_OPTIONS.feedSize,
      checkpointEveryBatches: 20,
      checkpointIntervalMs: 1000,
      maxBatch: 1000,
      updateIntervalMs: 1000,
      ...opts,
      badRecordsTopic: opts.badRecordsTopic === undefined ? TOPICS.badRecords : opts.badRecordsTopic,
      retentionMs: { ...DEFAULT_RETENTION, ...opts.retentionMs },
      onError: opts.onError ?? ((err) => console.error('realtime:', err.message)),
    };
    this.windowOptions = {
      ...DEFAULT_WINDOW_OPTIONS,
      allowedLatenessMs: this.o.allowedLatenessMs,
      topK: this.o.topK,
      includeBots: this.o.includeBots,
      feedSize: this.o.feedSize,
    };
    this.engine = new WindowEngine(this.windowOptions);
  }

  private get topics(): string[] {
    return this.o.badRecordsTopic ? [this.o.eventsTopic, this.o.badRecordsTopic] : [this.o.eventsTopic];
  }

  /** Loads the checkpoint, seeks the group to just after it, and starts consuming. */
  async start(): Promise<void> {
    if (this.running) return;
    this.store ??= new CheckpointStore(join(this.o.dataDir, 'realtime.sqlite'));
    this.load();
    this.running = true;
    this.lastCheckpointAt = Date.now();
    await this.subscribe();
    // Checkpoints the tail of a burst when no further batch arrives to trigger one.
    this.timer = setInterval(() => {
      if (this.batchesSinceCheckpoint > 0) this.checkpoint();
    }, this.o.checkpointIntervalMs);
    this.timer.unref();
  }

  /** Stops after the in-flight batch and writes a final checkpoint. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    for (const t of this.pendingEmit.values()) clearTimeout(t);
    this.pendingEmit.clear();
    await this.unsubscribe();
    this.checkpoint();
    this.store?.close();
    this.store = null;
  }

  /**
   * Forgets all state and recomputes it from the stream records stamped at or after `from.time`
   * (e.g. after adding a metric). The reset and the new start positions are one transaction, so
   * a crash mid-rebuild resumes the rebuild.
   */
  async rebuild(from: { time: number }): Promise<void> {
    if (!this.store) throw new Error('start the realtime processor before rebuilding it');
    await this.unsubscribe();
    const positions: Record<string, number> = {};
    for (const topic of this.topics) positions[topic] = await this.positionBefore(topic, from.time);
    this.store.reset(positions);
    this.load();
    if (this.running) await this.subscribe();
  }

  /**
   * Recomputes all state from the lake — events with event_time at or after `from.time`, in
   * event-time order, including imported history the stream never carried — and then resumes
   * the stream right after the last record the lake sink committed, so nothing is counted twice.
   * Quarantine counts are replayed from the stream. The new state is built in a separate file and
   * swapped in when complete: a crash mid-rebuild leaves the old state, which resumes as before.
   */
  async rebuildFromLake(
    from: { time: number },
    onProgress?: (p: { events: number; total: number }) => void,
  ): Promise<{ events: number; resumedAfter: number }> {
    if (!this.store) throw new Error('start the realtime processor before rebuilding it');
    await this.unsubscribe();
    try {
      const lakePosition = await this.o.log.committed(this.o.eventsTopic, this.o.lakeGroup);
      const positions: Record<string, number> = { [this.o.eventsTopic]: lakePosition };
      if (this.o.badRecordsTopic)
        positions[this.o.badRecordsTopic] = await this.positionBefore(this.o.badRecordsTopic, from.time);
      const livePath = join(this.o.dataDir, 'realtime.sqlite');
      const tmpPath = join(this.o.dataDir, 'realtime.rebuild.sqlite');
      removeDb(tmpPath);
      const tmp = new CheckpointStore(tmpPath);
      const engine = new WindowEngine(this.windowOptions);
      let events = 0;
      let total = 0;
      try {
        for await (const batch of replayLakeEvents({
          dataDir: this.o.dataDir,
          fromTime: from.time,
          maxStreamPosition: lakePosition,
          onTotal: (n) => {
            total = n;
            onProgress?.({ events, total });
          },
        })) {
          for (const e of batch) engine.ingest(e);
          events += batch.length;
          // Saving per batch lets retention evict old windows, so memory stays bounded.
          this.saveState(tmp, engine, positions);
          onProgress?.({ events, total });
        }
        this.saveState(tmp, engine, positions);
      } finally {
        tmp.close();
      }
      this.store.close();
      this.store = null;
      removeDb(livePath, { keepMain: true });
      renameSync(tmpPath, livePath);
      this.store = new CheckpointStore(livePath);
      this.load();
      return { events, resumedAfter: lakePosition };
    } finally {
      this.store ??= new CheckpointStore(join(this.o.dataDir, 'realtime.sqlite'));
      if (this.running) await this.subscribe();
    }
  }

  /** The position just before the first record stamped at or after `time` (the topic's end if none). */
  private async positionBefore(topic: string, time: number): Promise<number> {
    const [first] = await this.o.log.read(topic, { time }, 1);
    return first ? first.position - 1 : (await this.o.log.stats(topic)).lastPosition;
  }

  snapshot(siteId: string, query: SnapshotQuery): Snapshot {
    return buildSnapshot(siteId, this.engine.sites.get(siteId), query, this.windowOptions, (res, from, to) =>
      this.olderWindows(siteId, res, from, to),
    );
  }

  /** Called at most once per `updateIntervalMs` per site, after records for it were applied. */
  onUpdate(listener: (u: RealtimeUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  siteIds(): string[] {
    return [...this.engine.sites.keys()].sort();
  }

  status(): RealtimeStatus {
    return {
      running: this.running,
      positions: { ...this.positions },
      checkpointed: { ...this.checkpointed },
      invalidRecords: this.invalidRecords,
      lastCheckpoint: this.store?.lastCheckpoint() ?? null,
      sites: [...this.engine.sites.values()].map((s) => ({
        siteId: s.siteId,
        watermark: s.watermark > 0 ? s.watermark : null,
        windowsInMemory: s.windows.minute.size + s.windows.hour.size,
      })),
    };
  }

  /** Writes changed state and the positions it reflects in one transaction. Safe between any two batches. */
  checkpoint(): void {
    const store = this.store;
    if (!store) return;
    const unchanged = this.topics.every((t) => this.positions[t] === this.checkpointed[t]);
    if (unchanged) {
      this.batchesSinceCheckpoint = 0;
      return;
    }
    try {
      this.saveState(store, this.engine, this.positions);
    } catch (err) {
      // State stays dirty and the next checkpoint retries; the stream still holds the records.
      this.o.onError(new Error(`realtime checkpoint failed: ${(err as Error).message}`));
      return;
    }
    this.checkpointed = { ...this.positions };
    this.batchesSinceCheckpoint = 0;
    this.lastCheckpointAt = Date.now();
  }

  /** Saves an engine's changed windows with `positions` in one transaction, then evicts what retention allows. */
  private saveState(store: CheckpointStore, engine: WindowEngine, positions: Record<string, number>): void {
    const sites = [...engine.sites.values()];
    const windows: WindowRow[] = [];
    const abnormal = [];
    for (const s of sites) {
      for (const key of s.dirtyWindows) {
        const [res, start] = key.split(':') as [Resolution, string];
        const w = s.windows[res].get(Number(start));
        if (w)
          windows.push({
            site: s.siteId,
            resolution: res,
            start: w.start,
            closed: w.closed,
            state: w.agg.encode(),
          });
      }
      for (const key of s.dirtyAbnormal) {
        const [res, start] = key.split(':') as [Resolution, string];
        const a = s.abnormal[res].get(Number(start));
        if (a) abnormal.push({ site: s.siteId, resolution: res, start: Number(start), ...a });
      }
    }
    const changedSites = sites.filter((s) => s.dirtySite);
    store.save({
      positions: { ...positions },
      sites: changedSites.map((s) => ({ site: s.siteId, watermark: s.watermark, feed: s.feed.list() })),
      windows,
      abnormal,
      retainFrom: changedSites.map((s) => ({
        site: s.siteId,
        minute: s.watermark - this.o.retentionMs.minute,
        hour: s.watermark - this.o.retentionMs.hour,
      })),
    });
    for (const s of sites) {
      s.dirtyWindows.clear();
      s.dirtyAbnormal.clear();
      s.dirtySite = false;
      s.evict(this.o.retentionMs);
    }
  }

  private checkpointIfDue(): void {
    if (
      this.batchesSinceCheckpoint >= this.o.checkpointEveryBatches ||
      Date.now() - this.lastCheckpointAt >= this.o.checkpointIntervalMs
    )
      this.checkpoint();
  }

  /** Replaces the in-memory state by the checkpoint's. */
  private load(): void {
    const store = this.store!;
    this.engine = new WindowEngine(this.windowOptions);
    const saved = store.positions();
    this.positions = Object.fromEntries(this.topics.map((t) => [t, saved[t] ?? 0]));
    this.checkpointed = { ...this.positions };
    for (const row of store.sites()) {
      const site = this.engine.site(row.site);
      site.watermark = row.watermark;
      site.feed = RecentFeed.from(row.feed, this.o.feedSize);
      for (const w of store.hotWindows(row.site, site.horizon())) site.restore(this.decode(w));
      for (const a of store.abnormal(row.site)) {
        const { late, quarantined, invalid } = a;
        site.abnormal[a.resolution].set(a.start, { late, quarantined, invalid });
      }
    }
  }

  private decode(row: WindowRow): Window {
    return {
      resolution: row.resolution,
      start: row.start,
      closed: row.closed,
      agg: WindowAggregate.decode(row.state, this.windowOptions),
    };
  }

  private olderWindows(siteId: string, res: Resolution, from: number, to: number): Window[] {
    return this.store ? this.store.windows(siteId, res, from, to).map((r) => this.decode(r)) : [];
  }

  private async subscribe(): Promise<void> {
    for (const topic of this.topics) {
      // The group's own commit may be ahead of or behind the checkpoint; the checkpoint wins.
      await this.o.log.seek(topic, this.o.group, { position: this.positions[topic] + 1 });
      const sub = this.o.log.consume(topic, this.o.group, async (records) => this.handle(topic, records), {
        maxBatch: this.o.maxBatch,
      });
      sub.done.catch((err: Error) => {
        if (!this.running || !this.subs.includes(sub)) return;
        // A stream outage: resume from our own position once the stream is back.
        this.o.onError(new Error(`realtime consumer of ${topic} stopped: ${err.message}; retrying`));
        this.subs = this.subs.filter((s) => s !== sub);
        setTimeout(() => {
          if (this.running) this.resubscribe().catch((e: Error) => this.o.onError(e));
        }, 1000).unref();
      });
      this.subs.push(sub);
    }
  }

  private async resubscribe(): Promise<void> {
    await this.unsubscribe();
    await this.subscribe();
  }

  private async unsubscribe(): Promise<void> {
    const subs = this.subs;
    this.subs = [];
    await Promise.all(subs.map((s) => s.stop()));
  }

  private handle(topic: string, records: StoredRecord[]): void {
    const changed = new Set<string>();
    for (const r of records) {
      // Redelivered records (at-least-once delivery, or a group ahead of the checkpoint) are skipped.
      if (r.position <= this.positions[topic]) continue;
      const site = topic === this.o.eventsTopic ? this.applyEvent(r) : this.applyBadRecord(r);
      if (site) changed.add(site.siteId);
      this.positions[topic] = r.position;
    }
    this.batchesSinceCheckpoint++;
    this.checkpointIfDue();
    for (const siteId of changed) this.scheduleUpdate(siteId);
  }

  private applyEvent(r: StoredRecord): SiteWindows | null {
    let e: CanonicalEvent | null = null;
    try {
      e = JSON.parse(r.value) as CanonicalEvent;
    } catch {}
    if (
      typeof e?.site_id !== 'string' ||
      !Number.isFinite(e.event_time) ||
      typeof e.visitor_id !== 'string'
    ) {
      // Never expected (the collector writes canonical events), so each one is reported.
      this.invalidRecords++;
      this.o.onError(
        new Error(`realtime: stream record ${r.position} is not a canonical event; counted as invalid`),
      );
      if (typeof e?.site_id === 'string') {
        const site = this.engine.site(e.site_id);
        site.countAbnormal(Number.isFinite(e.received_at) ? e.received_at : r.timestamp, 'invalid');
        return site;
      }
      return null;
    }
    const site = this.engine.site(e.site_id);
    site.ingest(e);
    return site;
  }

  private applyBadRecord(r: StoredRecord): SiteWindows | null {
    let b: BadRecord;
    try {
      b = JSON.parse(r.value) as BadRecord;
    } catch {
      this.invalidRecords++;
      this.o.onError(new Error(`realtime: quarantine record ${r.position} is not JSON; counted as invalid`));
      return null;
    }
    // A record refused before its site was known has no dashboard to show on.
    if (typeof b?.site_id !== 'string') return null;
    const site = this.engine.site(b.site_id);
    site.countAbnormal(Number.isFinite(b.received_at) ? b.received_at : r.timestamp, 'quarantined');
    return site;
  }

  private scheduleUpdate(siteId: string): void {
    if (this.listeners.size === 0 || this.pendingEmit.has(siteId)) return;
    const wait = Math.max(0, (this.lastEmit.get(siteId) ?? 0) + this.o.updateIntervalMs - Date.now());
    const timer = setTimeout(() => {
      this.pendingEmit.delete(siteId);
      this.lastEmit.set(siteId, Date.now());
      const update: RealtimeUpdate = {
        siteId,
        at: Date.now(),
        snapshot: this.snapshot(siteId, { range: 'live' }),
      };
      for (const listener of this.listeners) {
        try {
          listener(update);
        } catch (err) {
          this.o.onError(err as Error);
        }
      }
    }, wait);
    this.pendingEmit.set(siteId, timer);
  }
}

/** Deletes a SQLite database's WAL and shared-memory files (and the database unless `keepMain`). */
function removeDb(path: string, o: { keepMain?: boolean } = {}): void {
  for (const p of o.keepMain ? [`${path}-wal`, `${path}-shm`] : [path, `${path}-wal`, `${path}-shm`])
    if (existsSync(p)) rmSync(p);
}
