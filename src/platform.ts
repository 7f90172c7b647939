import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { DetectionEngine } from './alerts/engine.js';
import { AlertService } from './alerts/service.js';
import { ApiKeys } from './auth/api-keys.js';
import { createAuthServices } from './auth/services.js';
import { SiteRegistry } from './auth/sites.js';
import { LakeCatalog } from './catalog/catalog.js';
import { buildServer } from './collector/server.js';
import type { Config } from './config/schema.js';
import { DailySalt } from './events/salts.js';
import { LAKE_TABLES } from './lake/lake.js';
import { LakeWriter } from './lake/writer.js';
import { type SyslogListener, startSyslog } from './logs/ingest/syslog.js';
import { LogsService } from './logs/logs-service.js';
import { compilePathPatterns } from './logs/parse/line-parser.js';
import { openMetaDb } from './meta/meta-db.js';
import { Mailer } from './notify/mailer.js';
import { createMetrics } from './ops/metrics.js';
import { backfillFromLake } from './orders/lake-backfill.js';
import { OrderSink } from './orders/order-sink.js';
import { removeStaleExports } from './query/result-export.js';
import { QuerySandbox } from './query/sandbox.js';
import { createQueryServices } from './query/services.js';
import { RealtimeProcessor } from './realtime/processor.js';
import { ProductAvailability } from './recs/availability.js';
import { StoreModelSource } from './recs/recs-model-source.js';
import { RecsService } from './recs/recs-service.js';
import { RetrainScheduler } from './recs/retrain-schedule.js';
import { ReportEngine } from './reports/engine.js';
import { ReportScheduler } from './reports/scheduler.js';
import { ReportSchedules } from './reports/schedules.js';
import { LakeSink } from './sinks/lake-sink.js';
import { type EventLog, TOPICS } from './stream/event-log.js';
import { SqliteEventLog } from './stream/sqlite-log.js';

const here = dirname(fileURLToPath(import.meta.url));

/** sp.js is plain JavaScript served as it is; from a tsc build (dist/src) it is read from the source tree. */
export function trackerSource(): string {
  const candidates = [
    join(here, 'collector', 'tracker', 'sp.js'),
    join(here, '..', '..', 'src', 'collector', 'tracker', 'sp.js'),
  ];
  const path = candidates.find((p) => existsSync(p));
  if (!path) throw new Error(`the tracker script is missing (looked in ${candidates.join(', ')})`);
  return readFileSync(path, 'utf8');
}

async function openStream(config: Config): Promise<EventLog> {
  if (config.mode === 'scaleout') {
    const { NatsEventLog } = await import('./stream/nats-log.js');
    return NatsEventLog.connect({ servers: config.stream.natsServers, replicas: config.stream.natsReplicas });
  }
  return new SqliteEventLog({ dir: join(config.dataDir, 'stream'), fsync: config.stream.fsync });
}

export interface Platform {
  app: FastifyInstance;
  url: string;
  firstRun: { siteId: string; writeKey: string; apiKey: string } | null;
  /** While no user exists: the one-time link that creates the first admin (valid 24 h). */
  setupUrl: string | null;
  stop(): Promise<void>;
}

/**
 * Assembles the embedded platform: stream → (lake sinks) and the HTTP server in front.
 * Each piece is started in dependency order and stopped in reverse.
 */
export async function startPlatform(config: Config): Promise<Platform> {
  const meta = openMetaDb(config.dataDir);
  const sites = new SiteRegistry(meta, config.sites);
  const apiKeys = new ApiKeys(meta);
  const log = await openStream(config);

  // No default passwords: the first run creates a site and an admin API key and prints them once.
  let firstRun: Platform['firstRun'] = null;
  if (sites.list().length === 0 && apiKeys.count() === 0) {
    const site = sites.add('default', { name: 'Default site' });
    const { key } = apiKeys.create('first-run admin', ['admin']);
    firstRun = { siteId: site.id, writeKey: site.writeKey, apiKey: key };
  }
  const auth = createAuthServices(meta, apiKeys, config.auth);
  // No default password either: until a user exists, each start prints a fresh setup link.
  const setupToken = auth.users.count() === 0 ? auth.setup.issue().token : null;

  const metrics = createMetrics(log, [
    { topic: TOPICS.events, group: 'lake' },
    { topic: TOPICS.badRecords, group: 'lake' },
    { topic: TOPICS.events, group: 'realtime' },
    { topic: TOPICS.badRecords, group: 'realtime' },
    { topic: TOPICS.events, group: 'orders' },
    { topic: TOPICS.events, group: 'detect' },
    { topic: TOPICS.logs, group: 'lake' },
    { topic: TOPICS.logs, group: 'logs-index' },
    { topic: TOPICS.logs, group: 'log-metrics' },
  ]);
  const writer = await LakeWriter.open(config.dataDir);
  let logSinkError = (err: Error) => console.error('lake sink:', err.message);
  const sinks = [
    { topic: TOPICS.events, table: LAKE_TABLES.events },
    { topic: TOPICS.badRecords, table: LAKE_TABLES.bad_records },
  ].map(
    ({ topic, table }) =>
      new LakeSink({
        log,
        writer,
        dataDir: config.dataDir,
        topic,
        table,
        flushIntervalMs: config.lake.flushIntervalMs,
        flushMaxRecords: config.lake.flushMaxRecords,
        compactAfterMinutes: config.lake.compactAfterMinutes,
        onFlush: (f) => metrics.flush(f.table, f.records, f.ms),
        onError: (err) => logSinkError(err),
      }),
  );
  // Log analytics: the `logs` topic → lake table and per-day full-text index (src/logs).
  let logLogsError = (err: Error) => console.error('logs:', err.message);
  const logs = new LogsService({
    config,
    log,
    writer,
    // Log metrics feed the 5xx and failed-login rules; evaluations only come after start().
    onEvaluation: (e) => alerts.evaluate(e),
    onError: (err) => logLogsError(err),
  });
  const sandbox = await QuerySandbox.open({
    dataDir: config.dataDir,
    timeoutMs: config.query.timeoutMs,
    maxRows: config.query.maxRows,
    memoryLimit: config.query.memoryLimit,
  });
  removeStaleExports(config.dataDir);
  const catalog = await LakeCatalog.open(config.dataDir);
  // Store reports: their own DuckDB over daily rollups of the lake (src/reports/rollups.ts).
  const reports = await ReportEngine.open({
    dataDir: config.dataDir,
    timeoutMs: config.query.timeoutMs,
    memoryLimit: config.query.memoryLimit,
  });

  let logRealtimeError = (err: Error) => console.error('realtime:', err.message);
  const realtime = new RealtimeProcessor({
    log,
    dataDir: config.dataDir,
    allowedLatenessMs: config.realtime.allowedLatenessMs,
    includeBots: config.realtime.includeBots,
    topK: config.realtime.topK,
    feedSize: config.realtime.feedSize,
    // Two pushes a second keep "ack → on screen" under a second (p99) with room to spare.
    updateIntervalMs: 500,
    retentionMs: {
      minute: config.realtime.minuteRetentionHours * 3_600_000,
      hour: config.realtime.hourRetentionDays * 86_400_000,
    },
    onError: (err) => logRealtimeError(err),
  });

  // Order history: a stream consumer; a new store is first loaded from the lake (imports bypass the stream).
  let logOrdersError = (err: Error) => console.error('orders:', err.message);
  const orders = new OrderSink({
    log,
    dataDir: config.dataDir,
    backfill: (store, signal) => backfillFromLake(store, { dataDir: config.dataDir, signal }),
    onError: (err) => logOrdersError(err),
  });

  // Scheduled reports and alerts notify by e-mail (notify.smtpUrl) and webhooks (public addresses only).
  const publicUrl = config.auth.publicUrl.replace(/\/+$/, '');
  const mailer = new Mailer(config.notify.smtpUrl, config.notify.mailFrom);
  let logNotifyError = (err: Error) => console.error('notify:', err.message);
  const schedules = new ReportSchedules(meta);
  const scheduler = new ReportScheduler({
    schedules,
    reports,
    mailer,
    policy: { allowNetworks: config.notify.allowNetworks },
    publicUrl,
    onError: (err) => logNotifyError(err),
  });
  const alerts = new AlertService({
    dataDir: config.dataDir,
    mailer,
    allowNetworks: config.notify.allowNetworks,
    publicUrl,
    onError: (err) => logNotifyError(err),
  });
  let logDetectError = (err: Error) => console.error('detect:', err.message);
  const detection = new DetectionEngine({
    log,
    dataDir: config.dataDir,
    onEvaluation: (e) => alerts.evaluate(e),
    anonymizedIps: config.ingest.anonymizeIp,
    allowedLatenessMs: config.realtime.allowedLatenessMs,
    onError: (err) => logDetectError(err),
  });

  // Recommendations: the current model of each site in memory, reloaded when training writes a
  // new version; training runs in a child process (src/recs/retrain-schedule.ts).
  let logRecs: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void } = {
    info: () => {},
    warn: (o, m) => console.error('recs:', m, o),
  };
  const availability = new ProductAvailability(meta);
  const recsService = new RecsService({
    source: new StoreModelSource(config.dataDir),
    sites: () => sites.list().map((s) => s.id),
    orders: orders.store,
    availability,
    pollMs: config.recs.reloadSeconds * 1000,
    onLoad: (info, ms) =>
      logRecs.info({ site: info.siteId, version: info.version, ms: Math.round(ms) }, 'recs model loaded'),
    onError: (err, site, version) =>
      logRecs.warn({ site, version, err: err.message }, 'recs model not loaded'),
  });
  const retrain = new RetrainScheduler({
    config,
    sites: () => sites.list().map((s) => s.id),
    onTrained: (site) => recsService.refresh(site),
    log: { info: (o, m) => logRecs.info(o, m), warn: (o, m) => logRecs.warn(o, m) },
  });

  const app = await buildServer({
    config,
    log,
    sites,
    apiKeys,
    auth,
    salt: new DailySalt(meta),
    sandbox,
    queries: createQueryServices(meta),
    catalog,
    metrics,
    realtime,
    orders: orders.store,
    reports,
    scheduling: { schedules, scheduler, reports },
    alerting: { manager: alerts.manager, notifier: alerts.notifier, detection },
    logs,
    recs: { service: recsService, retrain, availability },
    trackerJs: trackerSource(),
    ready: () => {
      const checks = {
        stream: true,
        lake_events: sinks[0].ready,
        lake_bad_records: sinks[1].ready,
        realtime: realtime.status().running,
        orders: orders.status().running,
        detect: detection.status().running,
        logs: logs.ready,
      };
      return { ready: Object.values(checks).every(Boolean), checks };
    },
  });
  logSinkError = (err) => app.log.warn({ err: err.message }, 'lake sink');
  logRealtimeError = (err) => app.log.warn({ err: err.message }, 'realtime');
  logOrdersError = (err) => app.log.warn({ err: err.message }, 'orders');
  logNotifyError = (err) => app.log.warn({ err: err.message }, 'notify');
  logDetectError = (err) => app.log.warn({ err: err.message }, 'detect');
  logLogsError = (err) => app.log.warn({ err: err.message }, 'logs');
  for (const sink of sinks) {
    await sink.start();
  }
  await realtime.start();
  await orders.start();
  alerts.start();
  await detection.start();
  await logs.start();
  // Syslog: off by default; it has no credential, so only peers in allowNetworks are heard.
  let syslog: SyslogListener | null = null;
  const sl = config.logs.syslog;
  if (sl.enabled) {
    if (!sites.get(sl.site))
      throw new Error(
        `logs.syslog.site: no site "${sl.site}"; add it with \`storepulse sites add ${sl.site}\``,
      );
    syslog = await startSyslog({
      ...sl,
      siteId: sl.site,
      enrich: {
        anonymizeIp: config.ingest.anonymizeIp,
        pathPatterns: compilePathPatterns(config.logs.pathPatterns),
      },
      append: (records) => logs.append(records),
      registry: metrics.registry,
      onError: (err) => app.log.warn({ err: err.message }, 'syslog'),
      onRefused: (transport, address, reason) =>
        app.log.warn(
          { transport, address },
          reason === 'network'
            ? 'syslog peer refused (not in logs.syslog.allowNetworks)'
            : `syslog connection refused: ${sl.maxConnections} open already (logs.syslog.maxConnections)`,
        ),
    });
    app.log.info({ host: sl.host, udp: syslog.udpPort, tcp: syslog.tcpPort }, 'syslog listening');
  }
  scheduler.start();
  logRecs = app.log;
  await recsService.start();
  retrain.start();
  // Roll up the lake's days now rather than on the first report (a big import takes a while).
  reports.refresh(null, '9999-12-31').catch((err) => app.log.warn({ err: err.message }, 'reports'));

  const retention = setInterval(async () => {
    for (const topic of Object.values(TOPICS)) {
      const dropped = await log
        .enforceRetention(topic, {
          maxAgeMs: config.stream.retentionHours * 3_600_000,
          maxBytes: config.stream.retentionMaxBytes,
        })
        .catch((err) => {
          app.log.error({ err }, 'stream retention failed');
          return 0;
        });
      if (dropped > 0) app.log.info({ topic, dropped }, 'stream retention');
    }
  }, 60_000);
  retention.unref();

  const address = await app.listen({ host: config.server.host, port: config.server.port });
  const url = address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');

  return {
    app,
    url,
    firstRun,
    setupUrl: setupToken ? `${publicUrl || url}/setup?token=${setupToken}` : null,
    async stop() {
      clearInterval(retention);
      await app.close();
      recsService.stop();
      await retrain.stop();
      await syslog?.stop();
      await realtime.stop();
      await orders.stop();
      scheduler.stop();
      await detection.stop();
      alerts.stop();
      mailer.close();
      for (const sink of sinks) await sink.stop();
      await logs.stop();
      await log.close();
      writer.close();
      sandbox.close();
      await reports.close();
      catalog.close();
      meta.close();
    },
  };
}
