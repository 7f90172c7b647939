import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Alert, AlertState, Labels } from './types.js';

/**
 * Alert state in `<dataDir>/alerts.sqlite`: current alerts, their history of transitions,
 * silences, and an outbox of notifications. A state change and the notifications it causes are
 * written in one transaction, so after kill -9 nothing is forgotten and nothing is sent twice
 * (an outbox row is marked delivered right after its send; a crash in between resends it once,
 * with the same idempotency key, which receivers such as Alertmanager de-duplicate).
 */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS alerts (
  fingerprint TEXT PRIMARY KEY, rule TEXT NOT NULL, site TEXT NOT NULL, labels TEXT NOT NULL,
  severity TEXT NOT NULL, state TEXT NOT NULL, summary TEXT NOT NULL, since INTEGER NOT NULL,
  firing_since INTEGER, resolved_at INTEGER, last_seen INTEGER NOT NULL, value REAL, band TEXT,
  evidence TEXT, acknowledged_by TEXT, last_notified_at INTEGER, notified_state TEXT);
CREATE INDEX IF NOT EXISTS alerts_rule ON alerts (rule, site, state);
CREATE TABLE IF NOT EXISTS alert_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT, fingerprint TEXT NOT NULL, rule TEXT NOT NULL, site TEXT NOT NULL,
  at INTEGER NOT NULL, state TEXT NOT NULL, summary TEXT NOT NULL, labels TEXT NOT NULL, value REAL, band TEXT,
  evidence TEXT);
CREATE INDEX IF NOT EXISTS alert_history_site ON alert_history (site, at);
CREATE TABLE IF NOT EXISTS silences (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, matchers TEXT NOT NULL, starts_at INTEGER NOT NULL,
  ends_at INTEGER NOT NULL, author TEXT NOT NULL, comment TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, fingerprint TEXT NOT NULL, state TEXT NOT NULL, at INTEGER NOT NULL,
  payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL,
  delivered_at INTEGER, error TEXT);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (delivered_at, next_attempt_at);
CREATE TABLE IF NOT EXISTS channels (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, target TEXT NOT NULL, secret TEXT,
  min_severity TEXT NOT NULL, sites TEXT NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
  outbox_id INTEGER NOT NULL, channel TEXT NOT NULL, at INTEGER NOT NULL, ok INTEGER NOT NULL, detail TEXT,
  PRIMARY KEY (outbox_id, channel));
CREATE TABLE IF NOT EXISTS threshold_rules (
  id TEXT PRIMARY KEY, rule TEXT NOT NULL, created_by TEXT NOT NULL, created_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL, updated_at INTEGER NOT NULL);
`;

export interface AlertRow {
  fingerprint: string;
  rule: string;
  site: string;
  labels: string;
  severity: string;
  state: AlertState;
  summary: string;
  since: number;
  firing_since: number | null;
  resolved_at: number | null;
  last_seen: number;
  value: number | null;
  band: string | null;
  evidence: string | null;
  acknowledged_by: string | null;
  last_notified_at: number | null;
  notified_state: string | null;
}

export const rowToAlert = (r: AlertRow): Alert & { site: string } => ({
  fingerprint: r.fingerprint,
  rule: r.rule,
  site: r.site,
  labels: JSON.parse(r.labels) as Labels,
  severity: r.severity as Alert['severity'],
  state: r.state,
  summary: r.summary,
  since: r.since,
  firingSince: r.firing_since,
  resolvedAt: r.resolved_at,
  lastSeen: r.last_seen,
  value: r.value ?? undefined,
  band: r.band ? JSON.parse(r.band) : undefined,
  evidence: r.evidence ? JSON.parse(r.evidence) : undefined,
  acknowledgedBy: r.acknowledged_by,
});

export function openAlertDb(path: string): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  return db;
}
