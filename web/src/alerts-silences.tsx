import { type FormEvent, useState } from 'react';
import { ConfirmButton, fmtWhen, InlineError } from './admin-widgets';
import { alertsApi, type Silence } from './alerts-api';
import type { Session } from './api-types';
import { useApiAction } from './use-api-action';

interface Props {
  site: string;
  session: Session;
  silences: Silence[];
  onChanged: () => void;
  onUnauthorized: () => void;
}

const matcherText = (m: Record<string, string>) =>
  Object.entries(m)
    .map(([k, v]) => (v.startsWith('~') ? `${k}=~${v.slice(1)}` : `${k}=${v}`))
    .join(', ');

function status(s: Silence, now: number): 'active' | 'planned' | 'ended' {
  if (s.endsAt <= now) return 'ended';
  return s.startsAt > now ? 'planned' : 'active';
}

/** Silences and maintenance windows (active, planned, recently ended), with expiry and a planning form. */
export function Silences(props: Props) {
  const { error, busy, run } = useApiAction(props.onUnauthorized);
  const canEdit = props.session.permissions.query;
  const now = Date.now();
  const shown = props.silences.filter((s) => s.endsAt > now - 7 * 86_400_000);
  const expire = (s: Silence) =>
    run(async () => {
      await alertsApi.expireSilence(props.session.csrfToken, s.id);
      props.onChanged();
    });
  return (
    <div className="silences">
      {shown.length === 0 ? (
        <p className="muted small">No silences or maintenance windows in the last 7 days.</p>
      ) : (
        <div className="table-scroll">
          <table data-testid="silence-list">
            <thead>
              <tr>
                <th>Kind</th>
                <th>Status</th>
                <th>Matches</th>
                <th>From</th>
                <th>Until</th>
                <th>By</th>
                <th>Why</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((s) => {
                const st = status(s, now);
                return (
                  <tr key={s.id} data-testid="silence-row">
                    <td>{s.kind}</td>
                    <td className={`state state-${st}`}>{st}</td>
                    <td className="detail mono">{matcherText(s.matchers)}</td>
                    <td>{fmtWhen(s.startsAt)}</td>
                    <td>{fmtWhen(s.endsAt)}</td>
                    <td>{s.author}</td>
                    <td className="detail">{s.comment}</td>
                    <td>
                      {canEdit && st !== 'ended' && (
                        <ConfirmButton
                          label={st === 'planned' ? 'Cancel' : 'Expire'}
                          confirmLabel={st === 'planned' ? 'Yes, cancel it' : 'Yes, expire now'}
                          disabled={busy}
                          onConfirm={() => expire(s)}
                        />
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <InlineError error={error} testId="silences-error" />
      {canEdit ? (
        <MaintenanceForm {...props} />
      ) : (
        <p className="muted small">Analysts and admins can silence alerts and plan maintenance.</p>
      )}
    </div>
  );
}

/** `datetime-local` wants local time without a zone. */
const localInput = (t: number) => {
  const d = new Date(t - new Date(t).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};

const ALERTNAMES = [
  { value: '', label: 'every alert of the site' },
  { value: 'order_rate_anomaly', label: 'order-rate anomalies' },
  { value: '~order_rate_anomaly|threshold', label: 'order-rate anomalies and threshold rules' },
  { value: 'request_flood', label: 'request floods' },
  { value: 'bot_wave', label: 'bot waves' },
  { value: '~checkout_errors|http_5xx', label: 'checkout errors and 5xx' },
];

/** A planned sale or deploy: alerts that match are muted in the window, and the list says why. */
function MaintenanceForm(props: Props) {
  const { error, busy, run } = useApiAction(props.onUnauthorized);
  const hour = 3_600_000;
  const [from, setFrom] = useState(() => localInput(Math.ceil(Date.now() / hour) * hour));
  const [until, setUntil] = useState(() => localInput(Math.ceil(Date.now() / hour) * hour + 4 * hour));
  const [alertname, setAlertname] = useState('');
  const [comment, setComment] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setNotice(null);
    void run(async () => {
      const s = await alertsApi.addSilence(props.session.csrfToken, {
        kind: 'maintenance',
        matchers: { site: props.site, ...(alertname ? { alertname } : {}) },
        startsAt: new Date(from).getTime(),
        endsAt: new Date(until).getTime(),
        comment: comment.trim(),
      });
      setComment('');
      setNotice(`Maintenance window planned: ${fmtWhen(s.startsAt)} – ${fmtWhen(s.endsAt)}.`);
      props.onChanged();
    });
  };
  return (
    <form className="form-row add-form" onSubmit={submit} data-testid="maintenance-form">
      <h3>Plan a maintenance window</h3>
      <p className="muted small">
        For a planned sale, campaign or deploy: matching alerts of {props.site} are muted in the window and
        show why.
      </p>
      <label>
        From
        <input type="datetime-local" required value={from} onChange={(e) => setFrom(e.target.value)} />
      </label>
      <label>
        Until
        <input type="datetime-local" required value={until} onChange={(e) => setUntil(e.target.value)} />
      </label>
      <label>
        Alerts
        <select value={alertname} onChange={(e) => setAlertname(e.target.value)}>
          {ALERTNAMES.map((a) => (
            <option key={a.value} value={a.value}>
              {a.label}
            </option>
          ))}
        </select>
      </label>
      <label className="grow">
        Why (required)
        <input
          required
          maxLength={500}
          placeholder="e.g. Black Friday sale, 3× the usual orders"
          value={comment}
          onChange={(e) => setComment(e.target.value)}
          data-testid="maintenance-comment"
        />
      </label>
      <button type="submit" disabled={busy}>
        Plan window
      </button>
      <InlineError error={error} testId="maintenance-error" />
      {notice && (
        <p className="notice small" role="status">
          {notice}
        </p>
      )}
    </form>
  );
}
