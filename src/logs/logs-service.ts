import type { Evaluation } from '../alerts/types.js';
import type { Config } from '../config/schema.js';
import { LAKE_TABLES } from '../lake/lake.js';
import type { LakeWriter } from '../lake/writer.js';
import { LakeSink } from '../sinks/lake-sink.js';
import { type EventLog, TOPICS } from '../stream/event-log.js';
import { LogIndex, logsIndexDir, type RetentionPolicy } from './index/log-index.js';
import { LogIndexSink } from './index/log-index-sink.js';
import type { LogRecord } from './log-record.js';
import { LogMetrics } from './metrics/log-metrics.js';
import {
  compilePathPatterns,
  createLineParser,
  type LineParser,
  type LogFormat,
} from './parse/line-parser.js';

export interface LogsServiceOptions {
  config: Config;
  log: EventLog;
  writer: LakeWriter;
  /** Evaluations of the 5xx and failed-login rules on log metrics (the alert manager). */
  onEvaluation?: (e: Evaluation) => void;
  onError?: (err: Error) => void;
}

/**
 * Log analytics, assembled: parsers configured once, `append` (records → the `logs` topic,
 * acknowledged when durable), and two consumers of that topic — the lake sink (`logs` table)
 * and the full-text index — plus log metrics (per-minute requests, status classes, latency,
 * failed logins, feeding the 5xx and failed-login rules) and hourly retention of the index.
 */
export class LogsService {
  readonly index: LogIndex;
  readonly indexSink: LogIndexSink;
  readonly lakeSink: LakeSink;
  readonly metrics: LogMetrics;
  private readonly parsers = new Map<string, LineParser>();
  private readonly enrich;
  private retentionTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: LogsServiceOptions) {
    const { config } = o;
    this.enrich = {
      anonymizeIp: config.ingest.anonymizeIp,
      pathPatterns: compilePathPatterns(config.logs.pathPatterns),
    };
    this.index = new LogIndex(logsIndexDir(config.dataDir));
    this.indexSink = new LogIndexSink({ log: o.log, index: this.index, onError: o.onError });
    this.lakeSink = new LakeSink({
      log: o.log,
      writer: o.writer,
      dataDir: config.dataDir,
      topic: TOPICS.logs,
      table: LAKE_TABLES.logs,
      flushIntervalMs: config.lake.flushIntervalMs,
      flushMaxRecords: config.lake.flushMaxRecords,
      compactAfterMinutes: config.lake.compactAfterMinutes,
      onError: o.onError,
    });
    this.metrics = new LogMetrics({
      log: o.log,
      dataDir: config.dataDir,
      topic: TOPICS.logs,
      loginPattern: config.logs.loginPattern,
      allowedLatenessMs: config.realtime.allowedLatenessMs,
      retentionDays: Math.max(37, config.logs.retentionDays),
      onEvaluation: o.onEvaluation,
      onError: o.onError,
    });
  }

  /** A parser for a format name or nginx log_format string; throws when the format is unusable. */
  parser(format: LogFormat): LineParser {
    let p = this.parsers.get(format);
    if (!p) {
      p = createLineParser(format, this.enrich);
      if (this.parsers.size < 100) this.parsers.set(format, p);
    }
    return p;
  }

  /**
   * Resolves once the records are durable in the stream. `keys` (one per record) make a resent
   * record a no-op: the stream keeps the first copy and counts the rest as duplicates.
   */
  async append(records: LogRecord[], keys?: string[]): Promise<{ duplicates: number }> {
    if (records.length === 0) return { duplicates: 0 };
    const now = Date.now();
    const r = await this.o.log.append(
      TOPICS.logs,
      records.map((r, i) => ({ key: keys?.[i], value: JSON.stringify(r), timestamp: now })),
    );
    return { duplicates: r.duplicates };
  }

  get retention(): RetentionPolicy {
    const { logs } = this.o.config;
    return { maxAgeDays: logs.retentionDays, maxBytes: logs.retentionMaxBytes, sources: logs.sources };
  }

  async start(): Promise<void> {
    await this.lakeSink.start();
    await this.indexSink.start();
    await this.metrics.start();
    this.retentionTimer = setInterval(() => {
      try {
        this.index.enforceRetention(this.retention);
      } catch (err) {
        this.o.onError?.(err as Error);
      }
    }, 3_600_000);
    this.retentionTimer.unref();
  }

  get ready(): boolean {
    return this.lakeSink.ready && this.indexSink.ready && this.metrics.ready;
  }

  async stop(): Promise<void> {
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await this.metrics.stop();
    await this.indexSink.stop();
    await this.lakeSink.stop();
    this.index.close();
  }
}
