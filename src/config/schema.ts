import { type Static, Type as T } from '@sinclair/typebox';

/**
 * The one configuration schema. Every field has a default, so an empty file (or no
 * file) gives the embedded single-process platform on port 8080 with data in ./data.
 * Descriptions double as `storepulse serve --help` text and as error hints.
 */
const Site = T.Object(
  {
    id: T.String({
      pattern: '^[a-z0-9][a-z0-9_-]{0,62}$',
      description: 'site id: lowercase letters, digits, - and _',
    }),
    name: T.Optional(T.String()),
    writeKey: T.String({
      minLength: 16,
      description: 'secret write key (>= 16 chars) used by trackers and SDKs',
    }),
    origins: T.Array(T.String(), {
      default: [],
      description: 'browser origins allowed to send events (e.g. https://shop.example); empty = any origin',
    }),
  },
  { additionalProperties: false },
);

export const ConfigSchema = T.Object(
  {
    mode: T.Union([T.Literal('embedded'), T.Literal('scaleout')], {
      default: 'embedded',
      description: 'embedded = SQLite stream in this process; scaleout = NATS JetStream',
    }),
    dataDir: T.String({ default: './data', description: 'where the stream, the lake and metadata live' }),
    server: T.Object(
      {
        host: T.String({ default: '0.0.0.0', description: 'address to listen on' }),
        port: T.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'HTTP port' }),
        bodyLimitBytes: T.Integer({ minimum: 1024, default: 1_048_576, description: 'largest request body' }),
        maxBatch: T.Integer({ minimum: 1, default: 1000, description: 'most events in one batch request' }),
        trustProxy: T.Boolean({ default: false, description: 'read client IP from X-Forwarded-For' }),
        logLevel: T.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => T.Literal(l)),
          { default: 'info', description: 'structured log level' },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    stream: T.Object(
      {
        fsync: T.Boolean({ default: true, description: 'fsync every group commit before acknowledging' }),
        retentionHours: T.Number({
          minimum: 0,
          default: 168,
          description: 'drop stream records older than this',
        }),
        retentionMaxBytes: T.Integer({
          minimum: 0,
          default: 10 * 1024 ** 3,
          description: 'cap on stream size',
        }),
        natsServers: T.Array(T.String(), {
          default: ['nats://127.0.0.1:4222'],
          description: 'NATS servers (scaleout mode)',
        }),
        natsReplicas: T.Integer({
          minimum: 1,
          maximum: 5,
          default: 1,
          description: 'JetStream stream replicas',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    lake: T.Object(
      {
        flushIntervalMs: T.Integer({
          minimum: 100,
          maximum: 5000,
          default: 1000,
          description: 'max delay before a Parquet flush',
        }),
        flushMaxRecords: T.Integer({
          minimum: 1,
          default: 100_000,
          description: 'flush once this many records wait',
        }),
        compactAfterMinutes: T.Integer({
          minimum: 0,
          default: 10,
          description: 'compact an hour this long after it closes',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    ingest: T.Object(
      {
        maxFutureSeconds: T.Integer({
          minimum: 0,
          default: 600,
          description: 'reject events timestamped further ahead',
        }),
        maxPastDays: T.Integer({
          minimum: 0,
          default: 31,
          description: 'reject live events older than this (import has no limit)',
        }),
        anonymizeIp: T.Boolean({ default: true, description: 'zero the last IPv4 octet / keep an IPv6 /48' }),
      },
      { additionalProperties: false, default: {} },
    ),
    realtime: T.Object(
      {
        allowedLatenessMs: T.Integer({
          minimum: 0,
          default: 60_000,
          description: 'how late an event may arrive and still count in its minute',
        }),
        includeBots: T.Boolean({
          default: false,
          description: 'count bot-flagged traffic in business metrics',
        }),
        topK: T.Integer({
          minimum: 10,
          maximum: 10_000,
          default: 100,
          description: 'items tracked per top list and window',
        }),
        feedSize: T.Integer({
          minimum: 0,
          maximum: 1000,
          default: 50,
          description: 'recent events kept per site for the live feed',
        }),
        minuteRetentionHours: T.Number({
          minimum: 1,
          default: 48,
          description: 'closed minute windows kept',
        }),
        hourRetentionDays: T.Number({ minimum: 1, default: 30, description: 'closed hour windows kept' }),
      },
      { additionalProperties: false, default: {} },
    ),
    query: T.Object(
      {
        timeoutMs: T.Integer({
          minimum: 100,
          default: 30_000,
          description: 'user SQL is cancelled after this',
        }),
        maxRows: T.Integer({
          minimum: 1,
          default: 10_000,
          description: 'user SQL returns at most this many rows',
        }),
        memoryLimit: T.String({ default: '2GB', description: 'DuckDB memory limit for user SQL' }),
      },
      { additionalProperties: false, default: {} },
    ),
    notify: T.Object(
      {
        allowNetworks: T.Array(T.String({ pattern: '^[0-9a-fA-F.:]+(/\\d{1,3})?$' }), {
          default: [],
          description:
            'CIDR ranges webhooks may reach although private (e.g. 10.0.0.0/8); loopback, private, link-local and metadata addresses are refused otherwise',
        }),
        smtpUrl: T.String({
          default: '',
          description:
            'SMTP server for e-mailed reports and alerts, e.g. smtps://user:pass@mail.example.com:465 (empty: e-mail off)',
        }),
        mailFrom: T.String({ default: 'storepulse@localhost', description: 'sender address of e-mails' }),
      },
      { additionalProperties: false, default: {} },
    ),
    auth: T.Object(
      {
        secureCookies: T.Boolean({
          default: false,
          description:
            'always mark the session cookie Secure (set it behind a TLS proxy that sends no X-Forwarded-Proto)',
        }),
        sessionIdleMinutes: T.Integer({
          minimum: 1,
          default: 60,
          description: 'sign a session out after this long without a request',
        }),
        sessionMaxHours: T.Number({
          minimum: 0.1,
          default: 12,
          description: 'sign a session out this long after login, however active',
        }),
        loginMaxFailures: T.Integer({
          minimum: 1,
          default: 5,
          description: 'failed logins for one account within loginWindowMinutes that lock it',
        }),
        loginWindowMinutes: T.Integer({
          minimum: 1,
          default: 15,
          description: 'window for counting failures',
        }),
        lockoutMinutes: T.Integer({
          minimum: 1,
          default: 15,
          description: 'how long a locked account waits',
        }),
        loginIpBurst: T.Integer({
          minimum: 1,
          default: 20,
          description: 'login attempts one IP may make at once (token bucket size)',
        }),
        loginIpPerMinute: T.Number({
          minimum: 0.1,
          default: 10,
          description: 'login attempts one IP regains per minute',
        }),
        publicUrl: T.String({
          default: '',
          description: 'base URL users reach the server at, for the setup link (default: the listen address)',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    logs: T.Object(
      {
        pathPatterns: T.Array(T.String(), {
          default: [
            '/products?/(?<product_id>[A-Za-z0-9_-]+)',
            '/categor(?:y|ies)/(?<category_id>[A-Za-z0-9_-]+)',
          ],
          description:
            "regular expressions tried on each log line's path; named groups product_id and category_id join logs with events",
        }),
        retentionDays: T.Number({
          minimum: 0,
          default: 30,
          description: 'drop whole days of the log index older than this (0 = keep)',
        }),
        loginPattern: T.String({
          default: '/(login|signin|sign-in|sign_in|auth)(/|$)',
          description:
            'regular expression (case-insensitive) for login paths in logs: a POST there answered 401/403 counts as a failed login',
        }),
        retentionMaxBytes: T.Integer({
          minimum: 0,
          default: 20 * 1024 ** 3,
          description: 'drop the oldest days of the log index beyond this size (0 = no cap)',
        }),
        sources: T.Record(
          T.String(),
          T.Object(
            {
              maxAgeDays: T.Optional(T.Number({ minimum: 0 })),
              maxBytes: T.Optional(T.Integer({ minimum: 0 })),
            },
            { additionalProperties: false },
          ),
          { default: {}, description: 'tighter retention per log source, e.g. {"debug": {"maxAgeDays": 2}}' },
        ),
        syslog: T.Object(
          {
            enabled: T.Boolean({
              default: false,
              description: 'listen for syslog (RFC 5424 and 3164) over UDP and TCP',
            }),
            host: T.String({
              default: '127.0.0.1',
              description: 'address the syslog listeners bind to (syslog has no credential: widen with care)',
            }),
            udpPort: T.Integer({
              minimum: 0,
              maximum: 65535,
              default: 5514,
              description: 'syslog UDP port (0 = no UDP)',
            }),
            tcpPort: T.Integer({
              minimum: 0,
              maximum: 65535,
              default: 5514,
              description: 'syslog TCP port (0 = no TCP)',
            }),
            site: T.String({ default: 'default', description: 'site id the syslog lines belong to' }),
            source: T.String({ default: 'syslog', description: 'source name of syslog lines' }),
            allowNetworks: T.Array(T.String({ pattern: '^[0-9a-fA-F.:]+(/\\d{1,3})?$' }), {
              default: ['127.0.0.0/8', '::1/128'],
              description:
                'CIDR ranges syslog senders may come from; others are refused (default loopback only)',
            }),
            maxMessageBytes: T.Integer({
              minimum: 480,
              default: 65_536,
              description: 'longer syslog frames are cut to this and flagged (parse_error "truncated")',
            }),
            maxConnections: T.Integer({
              minimum: 1,
              default: 256,
              description:
                'open syslog TCP connections at most; further ones are closed at once and counted (storepulse_syslog_refused_total{reason="connections"})',
            }),
          },
          { additionalProperties: false, default: {} },
        ),
      },
      { additionalProperties: false, default: {} },
    ),
    recs: T.Object(
      {
        retrain: T.Union([T.Literal('off'), T.Literal('daily'), T.Literal('weekly')], {
          default: 'daily',
          description:
            'retrain recommendations in the server (in a child process, the previous model kept): off, daily or weekly',
        }),
        retrainHour: T.Integer({
          minimum: 0,
          maximum: 23,
          default: 3,
          description: 'hour of the day (UTC) scheduled retraining starts',
        }),
        retrainWeekday: T.Integer({
          minimum: 0,
          maximum: 6,
          default: 0,
          description: 'weekly retraining: day of the week (0 = Sunday, UTC)',
        }),
        trainDays: T.Integer({
          minimum: 1,
          default: 90,
          description: 'scheduled retraining reads this many days of the lake up to now',
        }),
        reloadSeconds: T.Number({
          minimum: 0,
          default: 5,
          description:
            'how often the server looks for a newly trained model (0 = only after its own training)',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    sites: T.Array(Site, {
      default: [],
      description: 'sites declared in config (more can be added with `storepulse sites add`)',
    }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type SiteConfig = Static<typeof Site>;
