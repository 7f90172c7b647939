import { type FormEvent, useCallback, useEffect, useRef, useState } from 'react';
import { ConfirmButton, fmtWhen, InlineError } from './admin-widgets';
import type { Session } from './api-types';
import { type Cadence, type Channel, type ReportInfo, reportsApi, type Schedule } from './reports-api';
import { useApiAction } from './use-api-action';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const HOURS = [...Array(24).keys()];
const hh = (h: number) => `${String(h).padStart(2, '0')}:00 UTC`;

const when = (s: Schedule) =>
  s.cadence === 'daily' ? `daily at ${hh(s.hour)}` : `${WEEKDAYS[s.weekday ?? 1]}s at ${hh(s.hour)}`;
const paramText = (p: Record<string, string>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ') || 'defaults';

interface Props {
  site: string;
  report: ReportInfo;
  /** The view's parameters other than the date range: the cadence sets that. */
  params: Record<string, string>;
  session: Session;
  onUnauthorized: () => void;
}

/**
 * "Schedule": e-mail or post this report daily or weekly, as CSV plus an HTML summary of the day
 * or week before each send. Analysts and admins create and remove schedules; everyone sees them.
 */
export function ScheduleButton(props: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  const canEdit = props.session.permissions.query;
  return (
    <>
      <button
        type="button"
        className="ghost"
        onClick={() => {
          setOpen(true);
          dialog.current?.showModal();
        }}
        data-testid="report-schedule"
      >
        Schedule…
      </button>
      <dialog
        ref={dialog}
        className="report-dialog card"
        aria-labelledby="schedule-title"
        onClose={() => setOpen(false)}
        data-testid="schedule-dialog"
      >
        {open && <ScheduleDialog {...props} canEdit={canEdit} onClose={() => dialog.current?.close()} />}
      </dialog>
    </>
  );
}

function ScheduleDialog(props: Props & { canEdit: boolean; onClose: () => void }) {
  const { site, report, session } = props;
  const list = useApiAction(props.onUnauthorized);
  const [schedules, setSchedules] = useState<Schedule[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);

  const reload = useCallback(
    () =>
      list.run(async () =>
        setSchedules((await reportsApi.schedules(site)).filter((s) => s.report === report.id)),
      ),
    [list.run, site, report.id],
  );
  useEffect(() => {
    void reload();
  }, [reload]);

  const send = (s: Schedule) =>
    list.run(async () => {
      setNotice(null);
      const r = await reportsApi.sendSchedule(session.csrfToken, s.id);
      setNotice(r.ok ? `Sent: ${r.detail}` : null);
      if (!r.ok) list.setError(`Sending failed: ${r.detail}`);
      await reportsApi.schedules(site).then((all) => setSchedules(all.filter((x) => x.report === report.id)));
    });
  const remove = async (s: Schedule) => {
    setNotice(null);
    if (await list.run(() => reportsApi.removeSchedule(session.csrfToken, s.id))) {
      setNotice(`Schedule to ${s.target} removed.`);
      await reload();
    }
  };

  return (
    <div className="schedule">
      <div className="schedule-head">
        <h2 id="schedule-title">Schedule “{report.title}”</h2>
        <button type="button" className="ghost small" onClick={props.onClose} aria-label="Close">
          ✕
        </button>
      </div>
      <p className="muted small">
        Each send covers the day (daily) or the 7 days (weekly) before it, as a CSV file plus an HTML summary,
        with these parameters: <code data-testid="schedule-params">{paramText(props.params)}</code>.
      </p>
      {props.canEdit ? (
        <ScheduleForm
          {...props}
          onCreated={(s, key) => {
            setNotice(`Scheduled ${when(s)} to ${s.target}; first send ${fmtWhen(s.nextRunAt)}.`);
            setSecret(key ?? null);
            void reload();
          }}
        />
      ) : (
        <p className="muted">Analysts and admins can schedule reports.</p>
      )}
      {secret && <WebhookSecret secret={secret} onDone={() => setSecret(null)} />}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <InlineError error={list.error} testId="schedules-error" />
      <h3>Schedules of this report</h3>
      {schedules?.length === 0 && <p className="muted small">None yet.</p>}
      {schedules === null && !list.error && <p className="muted small">Loading…</p>}
      {schedules && schedules.length > 0 && (
        <ul className="schedule-list" data-testid="schedule-list">
          {schedules.map((s) => (
            <li key={s.id} data-testid="schedule-item">
              <div>
                <strong>{when(s)}</strong> · {s.channel === 'email' ? 'e-mail to' : 'webhook'}{' '}
                <span className="schedule-target">{s.target}</span>
              </div>
              <div className="muted small">
                {paramText(s.params)} · next {fmtWhen(s.nextRunAt)}
                {s.lastRunAt !== null && ` · last ${s.lastStatus} ${fmtWhen(s.lastRunAt)}`}
                {s.lastError && <span className="error"> · {s.lastError}</span>}
              </div>
              {props.canEdit && (
                <div className="row-actions">
                  <button type="button" className="ghost small" disabled={list.busy} onClick={() => send(s)}>
                    Send now
                  </button>
                  <ConfirmButton
                    label="Remove"
                    confirmLabel="Yes, remove"
                    disabled={list.busy}
                    onConfirm={() => remove(s)}
                  />
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ScheduleForm(props: Props & { onCreated: (s: Schedule, secret?: string) => void }) {
  const { error, busy, run } = useApiAction(props.onUnauthorized);
  const [cadence, setCadence] = useState<Cadence>('weekly');
  const [weekday, setWeekday] = useState(1);
  const [hour, setHour] = useState(6);
  const [channel, setChannel] = useState<Channel>('email');
  const [target, setTarget] = useState('');

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const r = await reportsApi.createSchedule(props.session.csrfToken, {
        site: props.site,
        report: props.report.id,
        params: props.params,
        cadence,
        hour,
        weekday: cadence === 'weekly' ? weekday : null,
        channel,
        target: target.trim(),
      });
      setTarget('');
      props.onCreated(r.schedule, r.secret);
    });
  };

  return (
    <form className="form-row schedule-form" onSubmit={submit} data-testid="schedule-form">
      <label>
        Cadence
        <select value={cadence} onChange={(e) => setCadence(e.target.value as Cadence)}>
          <option value="daily">daily (the day before)</option>
          <option value="weekly">weekly (the 7 days before)</option>
        </select>
      </label>
      {cadence === 'weekly' && (
        <label>
          Weekday
          <select value={weekday} onChange={(e) => setWeekday(Number(e.target.value))}>
            {WEEKDAYS.map((d, i) => (
              <option key={d} value={i}>
                {d}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        Hour
        <select value={hour} onChange={(e) => setHour(Number(e.target.value))}>
          {HOURS.map((h) => (
            <option key={h} value={h}>
              {hh(h)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Send by
        <select value={channel} onChange={(e) => setChannel(e.target.value as Channel)}>
          <option value="email">e-mail</option>
          <option value="webhook">webhook (signed POST)</option>
        </select>
      </label>
      <label className="schedule-target-field">
        {channel === 'email' ? 'E-mail addresses' : 'Webhook URL'}
        <input
          type={channel === 'email' ? 'text' : 'url'}
          required
          maxLength={2000}
          placeholder={
            channel === 'email' ? 'owner@shop.example, team@shop.example' : 'https://hooks.example/report'
          }
          value={target}
          onChange={(e) => setTarget(e.target.value)}
        />
      </label>
      <button type="submit" disabled={busy}>
        Create schedule
      </button>
      <InlineError error={error} testId="schedule-error" />
    </form>
  );
}

/** The only time the signing secret is on screen: the server does not show it again. */
function WebhookSecret(props: { secret: string; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const code = useRef<HTMLElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.secret);
      setCopied('Copied.');
    } catch {
      // The clipboard API needs HTTPS (or localhost): select the text so Ctrl+C / ⌘C copies it.
      const range = document.createRange();
      if (code.current) range.selectNodeContents(code.current);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      setCopied('Selected: press Ctrl+C (⌘C) to copy.');
    }
  };
  return (
    <div className="secret" data-testid="webhook-secret">
      <p>
        <strong>Webhook signing secret.</strong> Copy it now: it will not be shown again. Each POST carries{' '}
        <code>x-storepulse-signature: t=&lt;unix s&gt;,v1=&lt;hex HMAC-SHA256 of "t.body"&gt;</code>.
      </p>
      <div className="secret-value">
        <code ref={code} data-testid="webhook-secret-value">
          {props.secret}
        </code>
        <button type="button" className="small" onClick={copy}>
          Copy
        </button>
        <button type="button" className="ghost small" onClick={props.onDone}>
          Done
        </button>
      </div>
      {copied && (
        <p className="muted small" role="status">
          {copied}
        </p>
      )}
    </div>
  );
}
