/**
 * The seam between detectors (src/alerts/detectors/*) and the alert manager
 * (src/alerts/manager.ts): detectors look at metrics and say, at each evaluation, which
 * conditions hold; the manager turns that into alerts with a lifecycle (pending → firing →
 * resolved), de-duplication, grouping, silences, inhibition and notifications.
 */

export type Severity = 'critical' | 'warning' | 'info';

/** Labels identify an alert; the same labels = the same alert (its fingerprint). */
export type Labels = Record<string, string>;

/** The expected band next to the actual value, for charts and messages. */
export interface Band {
  expected: number;
  lower: number;
  upper: number;
}

/** One condition a detector found true at `at`. Absent from an evaluation = no longer true. */
export interface Signal {
  /** Must include `alertname` and `site`; more labels (metric, ip, segment…) as needed. */
  labels: Labels;
  severity: Severity;
  /** One line for a person: what is wrong, with numbers. */
  summary: string;
  /** Evaluation time (epoch ms, event time of the data evaluated). */
  at: number;
  value?: number;
  band?: Band;
  /** Supporting facts: offending IPs, root-cause segments, sample events… (JSON-serialisable). */
  evidence?: Record<string, unknown>;
}

/** What a detector returns for one evaluation of one site: every condition that holds now. */
export interface Evaluation {
  /** The detector (rule) that evaluated; alerts of this rule absent from `signals` resolve. */
  rule: string;
  site: string;
  at: number;
  signals: Signal[];
}

export type AlertState = 'pending' | 'firing' | 'resolved';

export interface Alert {
  fingerprint: string;
  rule: string;
  labels: Labels;
  severity: Severity;
  state: AlertState;
  summary: string;
  /** First time the condition was seen, and when the alert started firing. */
  since: number;
  firingSince: number | null;
  resolvedAt: number | null;
  lastSeen: number;
  value?: number;
  band?: Band;
  evidence?: Record<string, unknown>;
  /** Set when a silence, maintenance window or inhibiting alert mutes it. */
  mutedBy?: string | null;
  acknowledgedBy?: string | null;
}
