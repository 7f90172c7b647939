import { randomBytes, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { deliver, type TargetPolicy } from '../notify/http-target.js';
import type { Mailer } from '../notify/mailer.js';
import type { Notification } from './manager.js';
import type { Severity } from './types.js';

export type ChannelType = 'webhook' | 'slack' | 'email' | 'alertmanager';
export const CHANNEL_TYPES: readonly ChannelType[] = ['webhook', 'slack', 'email', 'alertmanager'];

export interface Channel {
  id: string;
  name: string;
  type: ChannelType;
  /** Webhook/Slack: the URL. Alertmanager: its base URL (…:9093). E-mail: comma-separated addresses. */
  target: string;
  minSeverity: Severity;
  /** Only alerts of these sites; empty = all. */
  sites: string[];
  createdBy: string;
  createdAt: number;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
const MAX_ATTEMPTS = 8;

interface OutboxRow {
  id: number;
  payload: string;
  attempts: number;
}

/**
 * Sends queued alert notifications to every matching channel: notifications of one site and
 * rule that are due together go out as one message (grouping). Each channel's success is
 * recorded, so a retry after a failure (or a crash) does not repeat the channels that already
 * got it. Failures back off exponentially and give up after 8 attempts, with the error kept.
 */
export class Notifier {
  private timer: NodeJS.Timeout | null = null;
  private amTimer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly db: Database.Database,
    private readonly o: {
      mailer: Mailer;
      policy: TargetPolicy;
      publicUrl?: string;
      /** Firing alerts currently open, re-sent to Alertmanager so it does not time them out. */
      firing: () => Notification['alert'][];
      onError?: (err: Error) => void;
      timeoutMs?: number;
    },
  ) {}

  start(everyMs = 2000): void {
    this.timer = setInterval(() => void this.flush(), everyMs);
    this.timer.unref();
    this.amTimer = setInterval(() => void this.refreshAlertmanager(), 60_000);
    this.amTimer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.amTimer) clearInterval(this.amTimer);
  }

  addChannel(
    c: Omit<Channel, 'id' | 'createdAt'>,
    now = Date.now(),
  ): { channel: Channel; secret: string | null } {
    const id = randomUUID();
    const secret = c.type === 'webhook' ? randomBytes(24).toString('base64url') : null;
    this.db
      .prepare(
        'INSERT INTO channels (id, name, type, target, secret, min_severity, sites, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(id, c.name, c.type, c.target, secret, c.minSeverity, JSON.stringify(c.sites), c.createdBy, now);
    return { channel: { ...c, id, createdAt: now }, secret };
  }

  removeChannel(id: string): boolean {
    return this.db.prepare('DELETE FROM channels WHERE id = ?').run(id).changes > 0;
  }

  channels(): Channel[] {
    return (
      this.db.prepare('SELECT * FROM channels ORDER BY created_at').all() as Record<string, unknown>[]
    ).map((r) => ({
      id: r.id as string,
      name: r.name as string,
      type: r.type as ChannelType,
      target: r.target as string,
      minSeverity: r.min_severity as Severity,
      sites: JSON.parse(r.sites as string) as string[],
      createdBy: r.created_by as string,
      createdAt: r.created_at as number,
    }));
  }

  private secretOf(id: string): string | undefined {
    const r = this.db.prepare('SELECT secret FROM channels WHERE id = ?').get(id) as
      | { secret: string | null }
      | undefined;
    return r?.secret ?? undefined;
  }

  /** Notifications still being delivered or given up on, for the API. */
  failures(limit = 50) {
    return this.db
      .prepare(
        `SELECT o.id, o.fingerprint, o.state, o.at, o.attempts, o.error, o.delivered_at FROM outbox o
         WHERE o.error IS NOT NULL ORDER BY o.id DESC LIMIT ?`,
      )
      .all(limit);
  }

  /** Sends everything due; one flush at a time. */
  async flush(now = Date.now()): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    try {
      const rows = this.db
        .prepare(
          `SELECT id, payload, attempts FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ? AND attempts < ?
           ORDER BY id LIMIT 200`,
        )
        .all(now, MAX_ATTEMPTS) as OutboxRow[];
      const groups = new Map<string, { rows: OutboxRow[]; items: Notification[] }>();
      for (const row of rows) {
        const n = JSON.parse(row.payload) as Notification;
        const key = `${n.alert.site}\u0000${n.alert.rule}`;
        const g = groups.get(key) ?? { rows: [], items: [] };
        g.rows.push(row);
        g.items.push(n);
        groups.set(key, g);
      }
      let sent = 0;
      for (const g of groups.values()) sent += await this.sendGroup(g.rows, g.items, now);
      return sent;
    } finally {
      this.busy = false;
    }
  }

  private async sendGroup(rows: OutboxRow[], items: Notification[], now: number): Promise<number> {
    const site = items[0].alert.site;
    const top = Math.max(...items.map((n) => RANK[n.alert.severity]));
    const targets = this.channels().filter(
      (c) => RANK[c.minSeverity] <= top && (c.sites.length === 0 || c.sites.includes(site)),
    );
    const done = new Set(
      (
        this.db.prepare(`SELECT channel FROM deliveries WHERE outbox_id = ? AND ok = 1`).all(rows[0].id) as {
          channel: string;
        }[]
      ).map((r) => r.channel),
    );
    const errors: string[] = [];
    for (const c of targets) {
      if (done.has(c.id)) continue;
      try {
        const detail = await this.send(c, items);
        for (const r of rows)
          this.db
            .prepare('INSERT OR REPLACE INTO deliveries VALUES (?, ?, ?, 1, ?)')
            .run(r.id, c.id, now, detail);
      } catch (err) {
        errors.push(`${c.name}: ${(err as Error).message}`);
        for (const r of rows)
          this.db
            .prepare('INSERT OR REPLACE INTO deliveries VALUES (?, ?, ?, 0, ?)')
            .run(r.id, c.id, now, (err as Error).message);
      }
    }
    for (const r of rows) {
      if (errors.length === 0) {
        this.db
          .prepare('UPDATE outbox SET delivered_at = ?, attempts = attempts + 1, error = NULL WHERE id = ?')
          .run(now, r.id);
      } else {
        const backoff = Math.min(3_600_000, 5000 * 2 ** r.attempts);
        this.db
          .prepare('UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, error = ? WHERE id = ?')
          .run(now + backoff, errors.join('; ').slice(0, 2000), r.id);
      }
    }
    if (errors.length > 0) this.o.onError?.(new Error(`alert notification failed: ${errors.join('; ')}`));
    return errors.length === 0 ? rows.length : 0;
  }

  /** Sends one grouped notification to one channel; throws with a reason on failure. */
  async send(c: Channel, items: Notification[]): Promise<string> {
    const timeoutMs = this.o.timeoutMs ?? 10_000;
    const post = async (url: string, body: unknown, hmacSecret?: string) => {
      const r = await deliver(url, {
        body: JSON.stringify(body),
        policy: this.o.policy,
        timeoutMs,
        hmacSecret,
      });
      if (r.status >= 300)
        throw new Error(`${new URL(url).host} answered ${r.status}: ${r.body.slice(0, 200)}`);
      return `HTTP ${r.status}`;
    };
    switch (c.type) {
      case 'webhook':
        return post(c.target, webhookBody(items, this.o.publicUrl), this.secretOf(c.id));
      case 'slack':
        return post(c.target, { text: slackText(items, this.o.publicUrl) });
      case 'alertmanager':
        return post(
          `${c.target.replace(/\/$/, '')}/api/v2/alerts`,
          items.map((n) => amAlert(n, this.o.publicUrl)),
        );
      case 'email': {
        const first = items[0];
        const r = await this.o.mailer.send({
          to: c.target.split(',').map((a) => a.trim()),
          subject:
            `[${first.kind.toUpperCase()}${items.length > 1 ? ` ×${items.length}` : ''}] ${first.alert.summary}`.slice(
              0,
              200,
            ),
          text: slackText(items, this.o.publicUrl),
        });
        return r.messageId;
      }
    }
  }

  /** Alertmanager resolves alerts it does not hear about for a while: re-send the firing ones. */
  async refreshAlertmanager(): Promise<void> {
    const firing = this.o.firing();
    if (firing.length === 0) return;
    for (const c of this.channels().filter((x) => x.type === 'alertmanager')) {
      const items = firing
        .filter((a) => c.sites.length === 0 || c.sites.includes(a.site))
        .map((alert) => ({ kind: 'firing' as const, alert, key: `${alert.fingerprint}:refresh` }));
      if (items.length > 0) await this.send(c, items).catch((err: Error) => this.o.onError?.(err));
    }
  }
}

const link = (publicUrl: string | undefined, site: string) =>
  publicUrl ? `${publicUrl.replace(/\/$/, '')}/alerts?site=${encodeURIComponent(site)}` : undefined;

/** The Logs page on the lines behind an alert (evidence.logsQuery), from 5 minutes before it started. */
export function logsLink(publicUrl: string | undefined, a: Notification['alert']): string | undefined {
  const q = a.evidence?.logsQuery;
  if (!publicUrl || typeof q !== 'string') return undefined;
  const p = new URLSearchParams({ site: a.site, q, from: String(a.since - 5 * 60_000) });
  if (a.resolvedAt) p.set('to', String(a.resolvedAt + 5 * 60_000));
  return `${publicUrl.replace(/\/$/, '')}/logs?${p}`;
}

export function webhookBody(items: Notification[], publicUrl?: string) {
  return {
    version: 1,
    status: items.every((n) => n.kind === 'resolved') ? 'resolved' : 'firing',
    site: items[0].alert.site,
    rule: items[0].alert.rule,
    url: link(publicUrl, items[0].alert.site),
    alerts: items.map((n) => ({
      status: n.kind,
      idempotencyKey: n.key,
      fingerprint: n.alert.fingerprint,
      labels: n.alert.labels,
      severity: n.alert.severity,
      summary: n.alert.summary,
      since: new Date(n.alert.since).toISOString(),
      firingSince: n.alert.firingSince ? new Date(n.alert.firingSince).toISOString() : null,
      resolvedAt: n.alert.resolvedAt ? new Date(n.alert.resolvedAt).toISOString() : null,
      value: n.alert.value ?? null,
      band: n.alert.band ?? null,
      evidence: n.alert.evidence ?? null,
      logsUrl: logsLink(publicUrl, n.alert) ?? null,
    })),
  };
}

function slackText(items: Notification[], publicUrl?: string): string {
  const lines = items.map((n) => {
    const logs = logsLink(publicUrl, n.alert);
    return `${n.kind === 'resolved' ? '✅ RESOLVED' : n.alert.severity === 'critical' ? '🔴 FIRING' : '🟠 FIRING'} ${n.alert.summary}${logs ? ` (logs: ${logs})` : ''}`;
  });
  const url = link(publicUrl, items[0].alert.site);
  return [...lines, ...(url ? [url] : [])].join('\n');
}

function amAlert(n: Notification, publicUrl?: string) {
  const a = n.alert;
  return {
    labels: { ...a.labels, alertname: a.labels.alertname ?? a.rule, site: a.site, severity: a.severity },
    annotations: {
      summary: a.summary,
      ...(a.band ? { expected: String(a.band.expected) } : {}),
      ...(typeof a.evidence?.logsQuery === 'string' ? { logs_query: a.evidence.logsQuery } : {}),
      ...(logsLink(publicUrl, a) ? { logs_url: logsLink(publicUrl, a) as string } : {}),
    },
    startsAt: new Date(a.firingSince ?? a.since).toISOString(),
    ...(n.kind === 'resolved' ? { endsAt: new Date(a.resolvedAt ?? Date.now()).toISOString() } : {}),
    ...(publicUrl ? { generatorURL: link(publicUrl, a.site) } : {}),
  };
}
