import {
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { headers, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type {
  AppendRecord,
  AppendResult,
  BatchHandler,
  ConsumeOptions,
  EventLog,
  StartFrom,
  StoredRecord,
  Subscription,
  TopicStats,
} from './event-log.js';

export interface NatsEventLogOptions {
  servers: string[];
  /** Copies of every stream. 3 on a cluster: an append is then acknowledged once a quorum stored it. Default 1. */
  replicas?: number;
  /** Streams are `<prefix>_<topic>`, subjects `<prefix>.<topic>`; separates installations sharing a cluster. Default 'sp'. */
  streamPrefix?: string;
  /** How long JetStream remembers record keys to drop duplicates. Default 2 minutes, the JetStream default. */
  duplicateWindowMs?: number;
  /** Limit for every JetStream request, publish acks included. Default 5000. */
  timeoutMs?: number;
}

interface Connection {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** Same rule as the SQLite log, so a topic valid on one is valid on the other. */
const TOPIC_RE = /^[a-z][a-z0-9_]{0,62}$/;
const badTopic = (topic: string) =>
  new Error(`NatsEventLog: invalid topic name "${topic}" (want ${TOPIC_RE})`);
/** No `_`: stream `<prefix>_<topic>` must split one way only. */
const PREFIX_RE = /^[A-Za-z][A-Za-z0-9-]{0,31}$/;
const TIMESTAMP_HEADER = 'Sp-Timestamp';
const MSG_ID_HEADER = 'Nats-Msg-Id';
/** Publishes in flight per append call: enough to pipeline, few enough not to swamp a busy server. */
const PUBLISH_WINDOW = 256;
/** Single-message reads in flight per read() call. */
const READ_WINDOW = 64;
const NANOS_PER_MS = 1_000_000;
/** How long a running group keeps retrying NATS before giving up: enough for a leader election or a node restart. */
const OUTAGE_MS = 30_000;

/**
 * The scale-out stream on NATS JetStream. One stream per topic; the record key is the
 * `Nats-Msg-Id`, so JetStream drops a retried append within the duplicate window; positions are
 * stream sequences. The producer's timestamp travels in a header, because replay-from-time and
 * age retention are defined on it, not on the server's receive time.
 *
 * A group's committed position is a value in the `<prefix>__groups` stream (one subject per group,
 * last value kept), and a running group reads through an ordered consumer that starts just after
 * it. Compared with a durable consumer acked per batch this keeps `committed()` exact, makes
 * `seek()` a single write, and redelivers a failed batch at once and in order rather than after
 * the ack wait. One process at a time should consume a given group.
 *
 * A running group retries NATS failures (a leader election takes a few seconds) for up to
 * OUTAGE_MS; `done` rejects after that, or at once if the handler throws. Records must fit the
 * server's max_payload (1 MB by default).
 */
export class NatsEventLog implements EventLog {
  readonly kind = 'nats';
  private readonly servers: string[];
  private readonly replicas: number;
  private readonly prefix: string;
  private readonly duplicateWindowMs: number;
  private readonly timeoutMs: number;
  private connection?: Promise<Connection>;
  private readonly streams = new Map<string, Promise<string>>();
  private readonly subs = new Set<Subscription>();
  private readonly appending = new Set<Promise<unknown>>();
  private readonly retentionLocks = new Map<string, Promise<unknown>>();
  private closing = false;
  private closed?: Promise<void>;

  constructor(opts: NatsEventLogOptions) {
    if (!Array.isArray(opts.servers) || opts.servers.length === 0)
      throw new Error('NatsEventLog: "servers" needs at least one URL');
    const replicas = opts.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5)
      throw new Error('NatsEventLog: "replicas" must be 1 to 5');
    const prefix = opts.streamPrefix ?? 'sp';
    if (!PREFIX_RE.test(prefix))
      throw new Error(`NatsEventLog: "streamPrefix" must match ${PREFIX_RE}, got "${prefix}"`);
    this.servers = opts.servers;
    this.replicas = replicas;
    this.prefix = prefix;
    this.duplicateWindowMs = opts.duplicateWindowMs ?? 120_000;
    this.timeoutMs = opts.timeoutMs ?? 5_000;
  }

  /** Connects and checks that JetStream answers, so a wrong address fails at start-up. */
  static async connect(opts: NatsEventLogOptions): Promise<NatsEventLog> {
    const log = new NatsEventLog(opts);
    await log.open();
    return log;
  }

  append(topic: string, records: AppendRecord[]): Promise<AppendResult> {
    const done = this.publishAll(topic, records);
    this.appending.add(done);
    const forget = () => this.appending.delete(done);
    done.then(forget, forget);
    return done;
  }

  private async publishAll(topic: string, records: AppendRecord[]): Promise<AppendResult> {
    const { js } = await this.open();
    await this.stream(topic);
    const subject = this.subject(topic);
    const now = Date.now();
    const positions: number[] = [];
    let duplicates = 0;
    for (let i = 0; i < records.length; i += PUBLISH_WINDOW) {
      // One connection keeps publish order, so the window's records get consecutive sequences.
      const acks = await Promise.all(
        records.slice(i, i + PUBLISH_WINDOW).map((r) => {
          const h = headers();
          h.set(TIMESTAMP_HEADER, String(r.timestamp ?? now));
          return js.publish(subject, r.value, { msgID: r.key, headers: h, timeout: this.timeoutMs });
        }),
      );
      for (const ack of acks) {
        positions.push(ack.seq);
        if (ack.duplicate) duplicates++;
      }
    }
    return { positions, duplicates };
  }

  /**
   * Reads by sequence from the stream leader, a window of requests at a time: no consumer is made,
   * so nothing is left behind on the server and a read works while a degraded cluster cannot
   * place new consumers.
   */
  async read(topic: string, from: StartFrom, limit: number): Promise<StoredRecord[]> {
    const after = await this.resolveAfter(topic, from);
    const { jsm } = await this.open();
    const stream = await this.stream(topic);
    const { state } = await jsm.streams.info(stream);
    const out: StoredRecord[] = [];
    let next = Math.max(after + 1, state.first_seq);
    while (out.length < limit && next <= state.last_seq) {
      const count = Math.min(READ_WINDOW, limit - out.length, state.last_seq - next + 1);
      const window = await Promise.all(
        Array.from({ length: count }, (_, i) => jsm.streams.getMessage(stream, { seq: next + i })),
      );
      for (const m of window) if (m) out.push(toRecord(m.seq, m.header, m.time, m.string()));
      next += count;
    }
    return out;
  }

  async committed(topic: string, group: string): Promise<number> {
    return (await this.committedOrNull(topic, group)) ?? 0;
  }

  async seek(topic: string, group: string, from: StartFrom): Promise<void> {
    await this.commit(topic, group, await this.resolveAfter(topic, from));
  }

  consume(topic: string, group: string, handler: BatchHandler, opts: ConsumeOptions = {}): Subscription {
    if (!TOPIC_RE.test(topic)) throw badTopic(topic);
    const maxBatch = Math.max(1, opts.maxBatch ?? 1000);
    const maxWaitMs = Math.max(0, opts.maxWaitMs ?? 0);
    const queue: JsMsg[] = [];
    let stopping = false;
    let pumpEnded = false;
    let pumpError: unknown;
    let wakeLoop: (() => void) | undefined;
    let wakePump: (() => void) | undefined;
    const nap = (ms?: number) =>
      new Promise<void>((resolve) => {
        const timer = ms === undefined ? undefined : setTimeout(() => wakeLoop?.(), ms);
        wakeLoop = () => {
          clearTimeout(timer);
          wakeLoop = undefined;
          resolve();
        };
      });

    // Moves messages from the consumer into `queue`, pausing while a full batch waits, so a slow
    // handler holds at most one batch plus the consumer's own buffer in memory.
    const pump = async (messages: ConsumerMessages) => {
      try {
        for await (const m of messages) {
          queue.push(m);
          wakeLoop?.();
          while (queue.length >= maxBatch && !stopping) await new Promise<void>((r) => (wakePump = r));
          if (stopping) break;
        }
      } catch (err) {
        pumpError = err;
      } finally {
        pumpEnded = true;
        wakeLoop?.();
      }
    };

    const running = () => !stopping && !this.closing;
    const loop = async () => {
      const { js } = await retry(() => this.open(), running);
      const stream = await retry(() => this.stream(topic), running);
      let after = await retry(() => this.committedOrNull(topic, group), running);
      if (after === null) {
        // Stored at once, so a group restarted before its first batch keeps its start.
        const start = await retry(() => this.resolveAfter(topic, opts.startFrom ?? 'earliest'), running);
        await retry(() => this.commit(topic, group, start), running);
        after = start;
      }
      if (stopping) return;
      const from = after;
      const consumer = await retry(
        () =>
          js.consumers.get(stream, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from + 1 }),
        running,
      );
      const messages = await consumer.consume({
        max_messages: Math.min(1000, Math.max(100, maxBatch)),
        expires: 10_000,
      });
      const pumped = pump(messages);
      try {
        while (!stopping) {
          if (queue.length === 0) {
            if (pumpEnded)
              throw pumpError ?? new Error(`NatsEventLog: the consumer of ${topic}/${group} ended`);
            await nap();
            continue;
          }
          // Messages already read off the socket join this batch.
          await new Promise((r) => setImmediate(r));
          const deadline = Date.now() + maxWaitMs;
          while (!stopping && !pumpEnded && queue.length < maxBatch && Date.now() < deadline)
            await nap(deadline - Date.now());
          if (stopping) break;
          const batch = queue.splice(0, maxBatch).map((m) => toRecord(m.seq, m.headers, m.time, m.string()));
          wakePump?.();
          await handler(batch);
          // If the group is stopped while NATS is unreachable, the batch stays uncommitted and comes again.
          await retry(() => this.commit(topic, group, batch[batch.length - 1].position), running);
        }
      } finally {
        stopping = true;
        wakePump?.();
        await messages.close().catch(() => {});
        await pumped;
        await consumer.delete().catch(() => {});
      }
    };

    const done = loop().finally(() => this.subs.delete(sub));
    const sub: Subscription = {
      done,
      stop: async () => {
        stopping = true;
        wakeLoop?.();
        wakePump?.();
        await done.catch(() => {});
      },
    };
    this.subs.add(sub);
    return sub;
  }

  async stats(topic: string): Promise<TopicStats> {
    const { jsm } = await this.open();
    const { state } = await jsm.streams.info(await this.stream(topic));
    return {
      topic,
      firstPosition: state.messages > 0 ? state.first_seq : 0,
      lastPosition: state.last_seq,
      records: state.messages,
      bytes: state.bytes,
    };
  }

  async enforceRetention(topic: string, policy: { maxAgeMs?: number; maxBytes?: number }): Promise<number> {
    const { jsm } = await this.open();
    const stream = await this.stream(topic);
    // Serialised per stream: trimming by size changes the stream's configuration for a moment.
    const previous = this.retentionLocks.get(stream) ?? Promise.resolve();
    const run = previous
      .catch(() => {})
      .then(async () => {
        let dropped = 0;
        if (policy.maxAgeMs !== undefined) {
          const { seq, last } = await this.firstAtOrAfter(stream, Date.now() - policy.maxAgeMs);
          // Purging below a sequence read before the purge can never touch a record appended meanwhile.
          dropped += (await jsm.streams.purge(stream, { seq: seq ?? last + 1 })).purged;
        }
        if (policy.maxBytes !== undefined) dropped += await this.trimToBytes(jsm, stream, policy.maxBytes);
        return dropped;
      });
    this.retentionLocks.set(stream, run);
    try {
      return await run;
    } finally {
      if (this.retentionLocks.get(stream) === run) this.retentionLocks.delete(stream);
    }
  }

  /**
   * JetStream alone knows what a record costs it (payload, headers, subject, framing), so it
   * chooses what to drop: `max_bytes` is lowered, which with discard-old drops the oldest records
   * at once, then put back. Only the head of a stream is ever removed, so the first sequence moving
   * counts the records dropped. Run retention from one process: two trimming the same stream at
   * once could each take the other's temporary limit for the real one.
   */
  private async trimToBytes(jsm: JetStreamManager, stream: string, maxBytes: number): Promise<number> {
    const before = await jsm.streams.info(stream);
    if (before.state.bytes <= maxBytes) return 0;
    if (maxBytes <= 0) return (await jsm.streams.purge(stream, { seq: before.state.last_seq + 1 })).purged;
    try {
      await jsm.streams.update(stream, { max_bytes: maxBytes });
    } finally {
      await jsm.streams.update(stream, { max_bytes: before.config.max_bytes });
    }
    const after = await jsm.streams.info(stream);
    return after.state.first_seq - before.state.first_seq;
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      await Promise.allSettled([...this.appending]);
      await Promise.all([...this.subs].map((s) => s.stop()));
      const conn = await this.connection?.catch(() => undefined);
      await conn?.nc.close();
    })();
    return this.closed;
  }

  /** The connection for a new operation; refused once close() has begun. */
  private open(): Promise<Connection> {
    if (this.closing) return Promise.reject(new Error('NatsEventLog: the stream is closed'));
    return this.conn();
  }

  /** The connection itself; running consumers still use it to finish while close() waits for them. */
  private conn(): Promise<Connection> {
    this.connection ??= (async () => {
      const nc = await connect({
        servers: this.servers,
        name: 'storepulse',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        timeout: this.timeoutMs,
      });
      try {
        const jsm = await jetstreamManager(nc, { timeout: this.timeoutMs });
        return { nc, jsm, js: jetstream(nc, { timeout: this.timeoutMs }) };
      } catch (err) {
        await nc.close();
        throw err;
      }
    })().catch((err) => {
      this.connection = undefined;
      throw err;
    });
    return this.connection;
  }

  private subject(topic: string): string {
    return `${this.prefix}.${topic}`;
  }

  private get groupsStream(): string {
    return `${this.prefix}__groups`;
  }

  /** A group name may be any string; a subject token may not hold `.`, `*`, `>` or spaces. */
  private groupSubject(topic: string, group: string): string {
    const token = /^[A-Za-z0-9_-]{1,128}$/.test(group)
      ? group
      : `=${Buffer.from(group).toString('base64url')}`;
    return `${this.groupsStream}.${topic}.${token}`;
  }

  /** The topic's stream, created on first use. */
  private stream(topic: string): Promise<string> {
    if (!TOPIC_RE.test(topic)) return Promise.reject(badTopic(topic));
    return this.ensureOnce({ name: `${this.prefix}_${topic}`, subjects: [this.subject(topic)] });
  }

  /** The stream holding each group's committed position: one subject per group, last value kept. */
  private groups(): Promise<string> {
    const name = this.groupsStream;
    return this.ensureOnce({ name, subjects: [`${name}.>`], max_msgs_per_subject: 1 });
  }

  private ensureOnce(cfg: Pick<StreamConfig, 'name' | 'subjects'> & Partial<StreamConfig>): Promise<string> {
    let ready = this.streams.get(cfg.name);
    if (!ready) {
      ready = this.ensureStream(cfg).then(() => cfg.name);
      ready.catch(() => this.streams.delete(cfg.name));
      this.streams.set(cfg.name, ready);
    }
    return ready;
  }

  private async ensureStream(
    cfg: Pick<StreamConfig, 'name' | 'subjects'> & Partial<StreamConfig>,
  ): Promise<void> {
    const { jsm } = await this.conn();
    try {
      await jsm.streams.info(cfg.name);
      return;
    } catch (err) {
      if ((err as { code?: number }).code !== 10059) throw err; // 10059: stream not found
    }
    try {
      await jsm.streams.add({
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        num_replicas: this.replicas,
        duplicate_window: this.duplicateWindowMs * NANOS_PER_MS,
        ...cfg,
      });
    } catch (err) {
      // Another process may have created it a moment ago; if so, it is there now.
      await jsm.streams.info(cfg.name).catch(() => {
        throw err;
      });
    }
  }

  private async committedOrNull(topic: string, group: string): Promise<number | null> {
    if (!TOPIC_RE.test(topic)) throw badTopic(topic);
    const { jsm } = await this.conn();
    const m = await jsm.streams.getMessage(await this.groups(), {
      last_by_subj: this.groupSubject(topic, group),
    });
    return m ? m.json<{ position: number }>().position : null;
  }

  private async commit(topic: string, group: string, position: number): Promise<void> {
    const { js } = await this.conn();
    await this.groups();
    await js.publish(this.groupSubject(topic, group), JSON.stringify({ position, at: Date.now() }), {
      timeout: this.timeoutMs,
    });
  }

  /** The position after which delivery starts: `{ position: p }` starts at p, `'latest'` after the last record. */
  private async resolveAfter(topic: string, from: StartFrom): Promise<number> {
    const stream = await this.stream(topic);
    if (from === 'earliest') return 0;
    if (from === 'latest') return (await (await this.conn()).jsm.streams.info(stream)).state.last_seq;
    if ('position' in from) return Math.max(0, from.position - 1);
    const { seq, last } = await this.firstAtOrAfter(stream, from.time);
    return seq === null ? last : seq - 1;
  }

  /**
   * Binary search for the first record stamped at or after `time`, reading single messages.
   * Assumes timestamps follow append order, as they do when producers stamp records with the time
   * they send them. A missing sequence can only be one removed from the head, so it counts as old.
   */
  private async firstAtOrAfter(stream: string, time: number): Promise<{ seq: number | null; last: number }> {
    const { jsm } = await this.conn();
    const { state } = await jsm.streams.info(stream);
    if (state.messages === 0) return { seq: null, last: state.last_seq };
    let lo = state.first_seq;
    let hi = state.last_seq + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const m = await jsm.streams.getMessage(stream, { seq: mid });
      const ts = m ? timestampOf(m.header.get(TIMESTAMP_HEADER), m.time) : Number.NEGATIVE_INFINITY;
      if (ts >= time) hi = mid;
      else lo = mid + 1;
    }
    return { seq: lo <= state.last_seq ? lo : null, last: state.last_seq };
  }
}

/**
 * Runs an idempotent step of a consuming group again after a failure (timeout, no leader, lost
 * connection) until it succeeds, the group is stopped, or failures have lasted OUTAGE_MS.
 */
async function retry<T>(step: () => Promise<T>, running: () => boolean): Promise<T> {
  const giveUp = Date.now() + OUTAGE_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (!running() || Date.now() > giveUp) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** attempt)));
    }
  }
}

function timestampOf(header: string | undefined, serverTime: Date): number {
  const ts = Number(header);
  return header && Number.isFinite(ts) ? ts : serverTime.getTime();
}

function toRecord(position: number, hdrs: MsgHdrs | undefined, time: Date, value: string): StoredRecord {
  return {
    position,
    key: hdrs?.get(MSG_ID_HEADER) || null,
    value,
    timestamp: timestampOf(hdrs?.get(TIMESTAMP_HEADER), time),
  };
}
