import { randomUUID } from 'node:crypto';
import type { BadRecord, CanonicalEvent, Mapped } from '../events/model.js';
import { type EventLog, TOPICS } from '../stream/event-log.js';

export interface Rejection {
  index: number;
  reason: string;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
}

export interface IngestCounters {
  accepted(siteId: string, source: string, n: number): void;
  rejected(siteId: string | null, source: string, n: number): void;
}

const MAX_RAW = 64 * 1024;

export function truncateRaw(raw: unknown): string {
  const text = typeof raw === 'string' ? raw : (JSON.stringify(raw) ?? String(raw));
  return text.length > MAX_RAW ? `${text.slice(0, MAX_RAW)}…[truncated]` : text;
}

export function badRecord(
  b: Pick<BadRecord, 'site_id' | 'source' | 'reason'> & {
    raw: unknown;
    line?: number | null;
    file?: string | null;
  },
): BadRecord {
  return {
    bad_id: randomUUID(),
    received_at: Date.now(),
    site_id: b.site_id,
    source: b.source,
    reason: b.reason,
    raw: truncateRaw(b.raw),
    line: b.line ?? null,
    file: b.file ?? null,
  };
}

/**
 * Hands mapped inputs to the stream: good events to `events`, refusals to `bad_records`
 * with their reason. Resolves only when both appends are durable, so the caller may
 * acknowledge. `raws[i]` is the input that produced `mapped[i]`.
 */
export async function ingest(
  log: EventLog,
  siteId: string,
  source: string,
  mapped: Mapped[][],
  raws: unknown[],
  counters?: IngestCounters,
): Promise<IngestResult> {
  const events: CanonicalEvent[] = [];
  const bad: BadRecord[] = [];
  const rejected: Rejection[] = [];
  mapped.forEach((results, index) => {
    for (const r of results) {
      if (r.ok) events.push(r.value);
      else {
        rejected.push({ index, reason: r.reason });
        bad.push(badRecord({ site_id: siteId, source, reason: r.reason, raw: raws[index] }));
      }
    }
  });
  const [appended] = await Promise.all([
    events.length > 0
      ? log.append(
          TOPICS.events,
          events.map((e) => ({
            key: `${e.site_id}:${e.event_id}`,
            value: streamJson(e),
            timestamp: e.received_at,
          })),
        )
      : Promise.resolve({ positions: [], duplicates: 0 }),
    quarantine(log, bad),
  ]);
  counters?.accepted(siteId, source, events.length - appended.duplicates);
  if (bad.length > 0) counters?.rejected(siteId, source, bad.length);
  return { accepted: events.length, duplicates: appended.duplicates, rejected };
}

/**
 * An event as a stream record, without its null fields: a typical event has ~25 of them, and
 * leaving them out makes records ~40% smaller. Consumers read a missing field as null.
 */
export function streamJson(e: CanonicalEvent): string {
  const compact: Record<string, unknown> = {};
  for (const key in e) {
    const v = e[key as keyof CanonicalEvent];
    if (v !== null) compact[key] = v;
  }
  return JSON.stringify(compact);
}

export async function quarantine(log: EventLog, bad: BadRecord[]): Promise<void> {
  if (bad.length === 0) return;
  await log.append(
    TOPICS.badRecords,
    bad.map((b) => ({ key: b.bad_id, value: JSON.stringify(b), timestamp: b.received_at })),
  );
}
