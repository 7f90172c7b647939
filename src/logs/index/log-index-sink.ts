import type { EventLog, StoredRecord, Subscription } from '../../stream/event-log.js';
import type { LogRecord } from '../log-record.js';
import type { LogIndex } from './log-index.js';

export const LOGS_TOPIC = 'logs';
const GROUP = 'logs-index';

export interface LogIndexSinkOptions {
  log: EventLog;
  index: LogIndex;
  topic?: string;
  maxBatch?: number;
  maxWaitMs?: number;
  onIndexed?: (info: { records: number; ms: number }) => void;
  onError?: (err: Error) => void;
}

/**
 * Stream → full-text index, as consumer group 'logs-index'. Delivery is at least once; the
 * day files skip what they already hold (their applied position is saved with the rows), so
 * a crash between indexing and the group's commit indexes nothing twice.
 */
export class LogIndexSink {
  private sub: Subscription | null = null;
  private stopping = false;
  ready = false;
  private readonly topic: string;

  constructor(private readonly o: LogIndexSinkOptions) {
    this.topic = o.topic ?? LOGS_TOPIC;
  }

  async start(): Promise<void> {
    this.subscribe();
  }

  private subscribe(): void {
    if (this.stopping) return;
    this.sub = this.o.log.consume(this.topic, GROUP, async (records) => this.handle(records), {
      maxBatch: this.o.maxBatch ?? 20_000,
      maxWaitMs: this.o.maxWaitMs ?? 50,
    });
    this.ready = true;
    this.sub.done.catch((err) => {
      this.ready = false;
      this.o.onError?.(err);
      setTimeout(() => this.subscribe(), 1000).unref();
    });
  }

  private async handle(records: StoredRecord[]): Promise<void> {
    const started = performance.now();
    const batch = records.map((r) => ({ position: r.position, record: JSON.parse(r.value) as LogRecord }));
    this.o.index.applyFromStream(this.topic, batch);
    this.o.onIndexed?.({ records: records.length, ms: performance.now() - started });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.ready = false;
    await this.sub?.stop();
  }
}
