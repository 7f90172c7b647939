import { join } from 'node:path';
import { type EventLog, type StoredRecord, type Subscription, TOPICS } from '../stream/event-log.js';
import type { OrderEvent } from './order-model.js';
import { OrderStore } from './order-store.js';

export const ORDERS_GROUP = 'orders';
/** Set once the first lake backfill of a new store has finished. */
export const BACKFILLED = 'lake_backfilled_at';

export interface OrderSinkOptions {
  log: EventLog;
  /** The store lives in `<dataDir>/orders.sqlite`. */
  dataDir: string;
  topic?: string;
  group?: string;
  maxBatch?: number;
  activityCap?: number;
  /**
   * Loads the lake into a store that has never been backfilled (history imported with
   * `storepulse import` never passes through the stream). Runs before the stream is consumed;
   * the server answers meanwhile.
   */
  backfill?: (store: OrderStore, signal: AbortSignal) => Promise<unknown>;
  onError?: (err: Error) => void;
}

export interface OrderSinkStatus {
  running: boolean;
  backfilling: boolean;
  /** Last stream position applied (saved with the rows it produced). */
  position: number;
  invalidRecords: number;
}

/**
 * Stream → order history, as consumer group 'orders'. Each batch's rows and its last stream
 * position are written in one SQLite transaction, and on start the group is moved to just
 * after the stored position (the group's own commit is not atomic with the store), so after a
 * crash, even kill -9, no order line is lost or counted twice.
 */
export class OrderSink {
  readonly store: OrderStore;
  private readonly topic: string;
  private readonly group: string;
  private readonly onError: (err: Error) => void;
  private sub: Subscription | null = null;
  private running = false;
  private backfilling = false;
  private invalidRecords = 0;
  private started: Promise<void> | null = null;
  private readonly abort = new AbortController();

  constructor(private readonly o: OrderSinkOptions) {
    this.topic = o.topic ?? TOPICS.events;
    this.group = o.group ?? ORDERS_GROUP;
    this.onError = o.onError ?? ((err) => console.error('orders:', err.message));
    this.store = new OrderStore(join(o.dataDir, 'orders.sqlite'), { activityCap: o.activityCap });
  }

  /**
   * Starts consuming. A store never backfilled is first loaded from the lake in the background;
   * `whenConsuming()` resolves once the stream is being read.
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const backfill = this.o.backfill;
    if (backfill && this.store.meta(BACKFILLED) === null) {
      this.backfilling = true;
      this.started = backfill(this.store, this.abort.signal)
        .then(() => this.store.setMeta(BACKFILLED, new Date().toISOString()))
        .catch((err: Error) => {
          // Stopped mid-way: the next start backfills again (it is idempotent).
          if (!this.abort.signal.aborted)
            this.onError(
              new Error(`lake backfill failed: ${err.message}; run \`storepulse orders rebuild\``),
            );
        })
        .finally(() => {
          this.backfilling = false;
        })
        .then(() => this.subscribe());
    } else {
      this.started = this.subscribe();
    }
    if (!this.backfilling) await this.started;
  }

  whenConsuming(): Promise<void> {
    return this.started ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    await this.started?.catch(() => {});
    const sub = this.sub;
    this.sub = null;
    await sub?.stop();
    this.store.close();
  }

  status(): OrderSinkStatus {
    return {
      running: this.running,
      backfilling: this.backfilling,
      position: this.running ? this.store.position(this.topic) : 0,
      invalidRecords: this.invalidRecords,
    };
  }

  private async subscribe(): Promise<void> {
    if (!this.running) return;
    // The stored position wins over the group's commit, which may be ahead of it or behind it.
    await this.o.log.seek(this.topic, this.group, { position: this.store.position(this.topic) + 1 });
    const sub = this.o.log.consume(this.topic, this.group, async (records) => this.handle(records), {
      maxBatch: this.o.maxBatch ?? 1000,
    });
    this.sub = sub;
    sub.done.catch((err: Error) => {
      if (!this.running || this.sub !== sub) return;
      // A failed write or a stream outage: resume from the stored position.
      this.onError(new Error(`orders consumer stopped: ${err.message}; retrying`));
      this.sub = null;
      setTimeout(() => {
        if (this.running) this.subscribe().catch((e: Error) => this.onError(e));
      }, 1000).unref();
    });
  }

  private handle(records: StoredRecord[]): void {
    const from = this.store.position(this.topic);
    const events: OrderEvent[] = [];
    for (const r of records) {
      if (r.position <= from) continue; // redelivered
      const e = parse(r.value);
      if (e) events.push(e);
      else {
        this.invalidRecords++;
        this.onError(new Error(`stream record ${r.position} is not a canonical event; skipped by orders`));
      }
    }
    const last = records[records.length - 1].position;
    if (last <= from) return;
    this.store.apply(events, { position: { topic: this.topic, position: last } });
  }
}

function parse(value: string): OrderEvent | null {
  let e: OrderEvent;
  try {
    e = JSON.parse(value) as OrderEvent;
  } catch {
    return null;
  }
  const ok =
    typeof e?.site_id === 'string' &&
    typeof e.event_id === 'string' &&
    typeof e.event_type === 'string' &&
    Number.isFinite(e.event_time);
  return ok ? e : null;
}
