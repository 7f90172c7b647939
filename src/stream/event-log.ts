/**
 * The stream seam. Producers append records and get a promise that resolves only once the
 * records are durable; consumers read batches at least once through a named group whose
 * position is committed after the handler resolves. Positions are per-topic, strictly
 * increasing integers starting at 1 (SQLite rowid, JetStream stream sequence).
 * Nothing SQLite- or NATS-specific appears here; stream/conformance.ts checks both.
 */

export interface AppendRecord {
  /** Idempotency key: a second append with the same key (within the retention / dedupe window) is a no-op. */
  key?: string;
  value: string;
  /** Producer time in ms since epoch; defaults to now. Used for replay-from-time and retention. */
  timestamp?: number;
}

export interface StoredRecord {
  position: number;
  key: string | null;
  value: string;
  timestamp: number;
}

export interface AppendResult {
  /** Position of each input record, in order; a duplicate gets the position of the first copy when known, else null. */
  positions: (number | null)[];
  duplicates: number;
}

export type StartFrom = { position: number } | { time: number } | 'earliest' | 'latest';

export interface ConsumeOptions {
  /** Most records per handler call. */
  maxBatch?: number;
  /** After the first record is available, wait up to this long for a fuller batch. */
  maxWaitMs?: number;
  /** Where a group with no committed position starts. Default 'earliest'. */
  startFrom?: StartFrom;
}

export type BatchHandler = (records: StoredRecord[]) => Promise<void>;

export interface Subscription {
  /** Stops after the in-flight batch (if any) is handled and committed. */
  stop(): Promise<void>;
  /** Resolves when the loop ends; rejects if the handler threw (the batch is not committed). */
  readonly done: Promise<void>;
}

export interface TopicStats {
  topic: string;
  firstPosition: number;
  lastPosition: number;
  records: number;
  bytes: number;
}

export interface EventLog {
  readonly kind: string;
  /** Resolves when every record is durable (fsynced / stored on a quorum). */
  append(topic: string, records: AppendRecord[]): Promise<AppendResult>;
  consume(topic: string, group: string, handler: BatchHandler, opts?: ConsumeOptions): Subscription;
  /** Reads without a group, for replay and inspection. */
  read(topic: string, from: StartFrom, limit: number): Promise<StoredRecord[]>;
  /** Committed position of a group: the last position it has fully handled (0 = none). */
  committed(topic: string, group: string): Promise<number>;
  /** Moves a group's position, e.g. to replay from a time: the next record delivered is the first after `position`. */
  seek(topic: string, group: string, from: StartFrom): Promise<void>;
  stats(topic: string): Promise<TopicStats>;
  /** Applies retention: drops records older than maxAgeMs and the oldest beyond maxBytes. Returns records dropped. */
  enforceRetention(topic: string, policy: { maxAgeMs?: number; maxBytes?: number }): Promise<number>;
  close(): Promise<void>;
}

export const TOPICS = { events: 'events', badRecords: 'bad_records', logs: 'logs' } as const;
