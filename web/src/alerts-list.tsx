import { type FormEvent, useRef, useState } from 'react';
import { fmtWhen, InlineError } from './admin-widgets';
import { AlertChart } from './alert-charts';
import { Evidence } from './alert-evidence';
import { AlertLogsLink } from './alert-logs-link';
import { type Alert, alertsApi, type Matchers } from './alerts-api';
import type { Session } from './api-types';
import { useApiAction } from './use-api-action';

interface Props {
  alerts: Alert[];
  /** What mutes an alert, in words (a silence's comment rather than its id). */
  mutedText: (mutedBy: string) => string;
  session: Session;
  theme: string;
  onChanged: () => void;
  onUnauthorized: () => void;
}

const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .filter(([k]) => k !== 'site' && k !== 'alertname')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

/** Firing, pending and recently resolved alerts of a site; each opens to its chart, evidence and actions. */
export function AlertList(props: Props) {
  const [open, setOpen] = useState<string | null>(null);
  if (props.alerts.length === 0)
    return (
      <p className="muted" data-testid="alerts-empty">
        No alerts for this site in the last 24 hours.
      </p>
    );
  return (
    <ul className="alert-list" data-testid="alert-list">
      {props.alerts.map((a) => (
        <li
          key={a.fingerprint}
          className={`alert-item sev-${a.severity} is-${a.state}`}
          data-testid="alert-item"
        >
          <button
            type="button"
            className="alert-head ghost"
            aria-expanded={open === a.fingerprint}
            onClick={() => setOpen(open === a.fingerprint ? null : a.fingerprint)}
          >
            <span className={`pill sev sev-${a.severity}`}>{a.severity}</span>
            <span className="alert-summary" data-testid="alert-summary">
              {a.summary}
            </span>
            <span className="alert-meta muted small">
              <span className={`state state-${a.state}`}>{a.state}</span> · {a.labels.alertname ?? a.rule} ·
              since {fmtWhen(a.since)}
              {a.resolvedAt !== null && ` · resolved ${fmtWhen(a.resolvedAt)}`}
              {a.mutedBy && <span data-testid="alert-muted"> · muted by {props.mutedText(a.mutedBy)}</span>}
              {a.acknowledgedBy && (
                <span data-testid="alert-acked"> · acknowledged by {a.acknowledgedBy}</span>
              )}
            </span>
          </button>
          {open === a.fingerprint && <AlertDetail {...props} alert={a} />}
        </li>
      ))}
    </ul>
  );
}

function AlertDetail(props: Props & { alert: Alert }) {
  const { alert, session } = props;
  const { error, busy, run } = useApiAction(props.onUnauthorized);
  const dialog = useRef<HTMLDialogElement>(null);
  const [silencing, setSilencing] = useState(false);
  const canAct = session.permissions.query && alert.state !== 'resolved';
  const acknowledge = () =>
    run(async () => {
      await alertsApi.acknowledge(session.csrfToken, alert.fingerprint);
      props.onChanged();
    });
  return (
    <div className="alert-detail" data-testid="alert-detail">
      <AlertChart alert={alert} theme={props.theme} onUnauthorized={props.onUnauthorized} />
      {alert.band && (
        <p className="small" data-testid="alert-band">
          Actual {fmtNumber(alert.value)} · expected {fmtNumber(alert.band.expected)} · normal band{' '}
          {fmtNumber(alert.band.lower)}–{fmtNumber(alert.band.upper)} (over the detector's window)
        </p>
      )}
      <p className="muted small">
        Labels: <code>{labelText(alert.labels) || '—'}</code> · last seen {fmtWhen(alert.lastSeen, 'second')}
      </p>
      {session.permissions.query && <AlertLogsLink alert={alert} />}
      <Evidence evidence={alert.evidence} />
      {canAct && (
        <div className="row-actions alert-actions">
          <button
            type="button"
            className="small"
            disabled={busy || Boolean(alert.acknowledgedBy)}
            onClick={acknowledge}
            data-testid="alert-ack"
          >
            {alert.acknowledgedBy ? 'Acknowledged' : 'Acknowledge'}
          </button>
          <button
            type="button"
            className="ghost small"
            onClick={() => {
              setSilencing(true);
              dialog.current?.showModal();
            }}
            data-testid="alert-silence"
          >
            Silence…
          </button>
        </div>
      )}
      <InlineError error={error} testId="alert-action-error" />
      <dialog
        ref={dialog}
        className="alerts-dialog card"
        aria-labelledby={`silence-${alert.fingerprint}`}
        onClose={() => setSilencing(false)}
        data-testid="silence-dialog"
      >
        {silencing && (
          <SilenceForm
            {...props}
            onDone={() => {
              dialog.current?.close();
              props.onChanged();
            }}
            onCancel={() => dialog.current?.close()}
          />
        )}
      </dialog>
    </div>
  );
}

const fmtNumber = (v: number | undefined) =>
  v === undefined ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 1 ? 3 : 2);

const PRESETS = [
  { label: '1 hour', ms: 3_600_000 },
  { label: '4 hours', ms: 4 * 3_600_000 },
  { label: '1 day', ms: 86_400_000 },
  { label: '1 week', ms: 7 * 86_400_000 },
];

function SilenceForm(props: Props & { alert: Alert; onDone: () => void; onCancel: () => void }) {
  const { alert } = props;
  const { error, busy, run } = useApiAction(props.onUnauthorized);
  const [duration, setDuration] = useState(PRESETS[0].ms);
  const [scope, setScope] = useState<'alert' | 'alertname'>('alert');
  const [comment, setComment] = useState('');
  const name = alert.labels.alertname ?? alert.rule;
  const matchers: Matchers =
    scope === 'alert' ? { ...alert.labels, site: alert.site } : { alertname: name, site: alert.site };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const now = Date.now();
      await alertsApi.addSilence(props.session.csrfToken, {
        kind: 'silence',
        matchers,
        startsAt: now,
        endsAt: now + duration,
        comment: comment.trim(),
      });
      props.onDone();
    });
  };
  return (
    <form className="silence-form" onSubmit={submit} data-testid="silence-form">
      <h2 id={`silence-${alert.fingerprint}`}>Silence “{alert.summary}”</h2>
      <fieldset className="presets">
        <legend>For</legend>
        {PRESETS.map((p) => (
          <label key={p.ms}>
            <input
              type="radio"
              name="duration"
              checked={duration === p.ms}
              onChange={() => setDuration(p.ms)}
            />{' '}
            {p.label}
          </label>
        ))}
      </fieldset>
      <fieldset className="presets">
        <legend>Which alerts</legend>
        <label>
          <input type="radio" name="scope" checked={scope === 'alert'} onChange={() => setScope('alert')} />{' '}
          this alert only
        </label>
        <label>
          <input
            type="radio"
            name="scope"
            checked={scope === 'alertname'}
            onChange={() => setScope('alertname')}
          />{' '}
          every “{name}” alert of {alert.site}
        </label>
      </fieldset>
      <p className="muted small">
        Matches{' '}
        <code>
          {Object.entries(matchers)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')}
        </code>
        ; notifications stop until {fmtWhen(Date.now() + duration)}, the alert stays listed.
      </p>
      <label className="field">
        Why (required)
        <input
          required
          maxLength={500}
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          placeholder="e.g. known issue, fix deploying"
          data-testid="silence-comment"
        />
      </label>
      <InlineError error={error} testId="silence-error" />
      <div className="row-actions">
        <button type="submit" disabled={busy || comment.trim() === ''} data-testid="silence-submit">
          Silence
        </button>
        <button type="button" className="ghost" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
