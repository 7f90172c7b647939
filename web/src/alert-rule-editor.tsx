import { type FormEvent, useState } from 'react';
import { fmtWhen } from './admin-widgets';
import { PreviewChart } from './alert-charts';
import {
  alertsApi,
  DAYS,
  type Day,
  type MetricInfo,
  OPS,
  type Op,
  RuleInvalid,
  type RulePreview,
  type Severity,
  type StoredRule,
  type ThresholdRule,
} from './alerts-api';
import type { Session } from './api-types';
import { useApiAction } from './use-api-action';

interface Props {
  site: string;
  session: Session;
  theme: string;
  metrics: MetricInfo[];
  /** The rule being changed, or null for a new one. */
  editing: ThresholdRule | null;
  onSaved: (r: StoredRule, created: boolean) => void;
  onCancel: () => void;
  onUnauthorized: () => void;
}

/** The form as typed: numbers stay text until the API has judged them. */
interface Draft {
  id: string;
  thisSiteOnly: boolean;
  metric: string;
  windowMinutes: string;
  op: Op;
  value: string;
  hours: boolean;
  from: string;
  to: string;
  days: Day[];
  timeZone: string;
  severity: Severity;
  summary: string;
}

function draftOf(r: ThresholdRule | null, site: string): Draft {
  return {
    id: r?.id ?? '',
    thisSiteOnly: r ? r.site === site : true,
    metric: r?.metric ?? 'orders',
    windowMinutes: String(r?.windowMinutes ?? 15),
    op: r?.op ?? '<',
    value: r ? String(r.value) : '1',
    hours: Boolean(r?.between),
    from: r?.between?.from ?? '08:00',
    to: r?.between?.to ?? '23:00',
    days: r?.days ?? [...DAYS],
    timeZone: r?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC',
    severity: r?.severity ?? 'warning',
    summary: r?.summary ?? '',
  };
}

// Text that is not a number is sent as it is: the API's message then names the field and what it takes.
const numberOrText = (s: string) => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s);

function ruleOf(d: Draft, site: string): Record<string, unknown> {
  const scheduled = d.hours || d.days.length < DAYS.length;
  return {
    ...(d.id.trim() ? { id: d.id.trim() } : {}),
    ...(d.thisSiteOnly ? { site } : {}),
    metric: d.metric.trim(),
    windowMinutes: numberOrText(d.windowMinutes),
    op: d.op,
    value: numberOrText(d.value),
    ...(d.hours ? { between: { from: d.from, to: d.to } } : {}),
    ...(d.days.length < DAYS.length ? { days: d.days } : {}),
    ...(scheduled && d.timeZone.trim() ? { timeZone: d.timeZone.trim() } : {}),
    severity: d.severity,
    ...(d.summary.trim() ? { summary: d.summary.trim() } : {}),
  };
}

/** A threshold rule form: the API's validation shown at each field, and the 7-day preview before saving. */
export function RuleEditor(props: Props) {
  const { site, session } = props;
  const saving = useApiAction(props.onUnauthorized);
  const testing = useApiAction(props.onUnauthorized);
  const [d, setD] = useState<Draft>(() => draftOf(props.editing, site));
  const [problems, setProblems] = useState<{ field: string | null; message: string }[]>([]);
  const [preview, setPreview] = useState<{ for: string; result: RulePreview } | null>(null);
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((cur) => ({ ...cur, [k]: v }));
  const rule = ruleOf(d, site);
  const stale = preview !== null && preview.for !== JSON.stringify({ ...rule, id: undefined });

  const refused = (err: unknown) => {
    if (err instanceof RuleInvalid) setProblems(err.problems);
    throw err;
  };
  const test = () =>
    testing.run(async () => {
      setProblems([]);
      saving.setError(null);
      const result = await alertsApi.preview(session.csrfToken, site, rule).catch(refused);
      setPreview({ for: JSON.stringify({ ...rule, id: undefined }), result });
    });
  const save = (e: FormEvent) => {
    e.preventDefault();
    void saving.run(async () => {
      setProblems([]);
      testing.setError(null);
      const r = props.editing
        ? await alertsApi.replaceRule(session.csrfToken, props.editing.id, rule).catch(refused)
        : await alertsApi.createRule(session.csrfToken, rule).catch(refused);
      props.onSaved(r.rule, !props.editing);
    });
  };

  const fieldError = (field: string) =>
    problems
      .filter((p) => p.field === field)
      .map((p) => (
        <span key={p.message} className="field-error" role="alert" data-testid={`rule-error-${field}`}>
          {p.message.replace(/^rule: /, '')}
        </span>
      ));
  const FIELDS = [
    'id',
    'site',
    'metric',
    'windowMinutes',
    'op',
    'value',
    'between',
    'days',
    'timeZone',
    'severity',
    'summary',
  ];
  const general = problems.filter((p) => p.field === null || !FIELDS.includes(p.field));
  // A refusal with field messages is shown at the fields; other refusals (409, network) in the section.
  const sectionError = (a: { error: string | null }) => (problems.length > 0 ? null : a.error);

  return (
    <form className="rule-editor add-form" onSubmit={save} noValidate data-testid="rule-editor">
      <h3>{props.editing ? `Change rule ${props.editing.id}` : 'New threshold rule'}</h3>
      <p className="muted small">
        Alert when a metric summed over a window (ratios: computed over it) crosses a value, e.g. “orders over
        15 min &lt; 1 between 08:00 and 23:00”. Evaluated every minute on closed minutes.
      </p>
      <div className="form-row">
        <label>
          Id
          <input
            value={d.id}
            disabled={props.editing !== null}
            placeholder="no-orders-daytime"
            onChange={(e) => set('id', e.target.value)}
            data-testid="rule-id"
          />
          {fieldError('id')}
        </label>
        <label>
          Metric
          <input
            list="rule-metrics"
            value={d.metric}
            onChange={(e) => set('metric', e.target.value)}
            data-testid="rule-metric"
          />
          <datalist id="rule-metrics">
            {props.metrics.map((m) => (
              <option key={m.name} value={m.name}>
                {m.description}
              </option>
            ))}
          </datalist>
          {fieldError('metric')}
        </label>
        <label>
          Window (min)
          <input
            inputMode="numeric"
            className="narrow"
            value={d.windowMinutes}
            onChange={(e) => set('windowMinutes', e.target.value)}
            data-testid="rule-window"
          />
          {fieldError('windowMinutes')}
        </label>
        <label>
          Is
          <select value={d.op} onChange={(e) => set('op', e.target.value as Op)} data-testid="rule-op">
            {OPS.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
          {fieldError('op')}
        </label>
        <label>
          Value
          <input
            inputMode="decimal"
            className="narrow"
            value={d.value}
            onChange={(e) => set('value', e.target.value)}
            data-testid="rule-value"
          />
          {fieldError('value')}
        </label>
        <label>
          Severity
          <select value={d.severity} onChange={(e) => set('severity', e.target.value as Severity)}>
            <option value="critical">critical</option>
            <option value="warning">warning</option>
            <option value="info">info</option>
          </select>
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={d.thisSiteOnly}
            onChange={(e) => set('thisSiteOnly', e.target.checked)}
          />{' '}
          only {site}
          {fieldError('site')}
        </label>
      </div>
      <div className="form-row">
        <label className="check">
          <input type="checkbox" checked={d.hours} onChange={(e) => set('hours', e.target.checked)} /> only
          between
        </label>
        <label>
          From
          <input
            type="time"
            disabled={!d.hours}
            value={d.from}
            onChange={(e) => set('from', e.target.value)}
          />
        </label>
        <label>
          To
          <input type="time" disabled={!d.hours} value={d.to} onChange={(e) => set('to', e.target.value)} />
          {fieldError('between')}
        </label>
        <fieldset className="days">
          <legend>Days</legend>
          {DAYS.map((day) => (
            <label key={day} className="check">
              <input
                type="checkbox"
                checked={d.days.includes(day)}
                onChange={(e) =>
                  set(
                    'days',
                    e.target.checked
                      ? DAYS.filter((x) => x === day || d.days.includes(x))
                      : d.days.filter((x) => x !== day),
                  )
                }
              />
              {day}
            </label>
          ))}
          {fieldError('days')}
        </fieldset>
        <label>
          Time zone
          <input
            value={d.timeZone}
            onChange={(e) => set('timeZone', e.target.value)}
            placeholder="Europe/Berlin"
          />
          {fieldError('timeZone')}
        </label>
      </div>
      <div className="form-row">
        <label className="grow">
          Summary for the person on call (optional)
          <input
            maxLength={200}
            value={d.summary}
            onChange={(e) => set('summary', e.target.value)}
            placeholder="No orders for 15 minutes in opening hours: check checkout"
            data-testid="rule-summary"
          />
          {fieldError('summary')}
        </label>
      </div>
      {general.length > 0 && (
        <ul className="error small" role="alert" data-testid="rule-errors">
          {general.map((p) => (
            <li key={p.message}>{p.message.replace(/^rule: /, '')}</li>
          ))}
        </ul>
      )}
      <div className="row-actions">
        <button
          type="button"
          className="ghost"
          disabled={testing.busy}
          onClick={test}
          data-testid="rule-preview"
        >
          {testing.busy ? 'Testing…' : 'Test on the last 7 days'}
        </button>
        <button type="submit" disabled={saving.busy} data-testid="rule-save">
          {props.editing ? 'Save changes' : 'Save rule'}
        </button>
        {props.editing && (
          <button type="button" className="ghost" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </div>
      {sectionError(testing) && <p className="error">{sectionError(testing)}</p>}
      {sectionError(saving) && (
        <p className="error" role="alert" data-testid="rule-save-error">
          {sectionError(saving)}
        </p>
      )}
      {preview && <PreviewResult preview={preview.result} stale={stale} theme={props.theme} />}
    </form>
  );
}

function PreviewResult(props: { preview: RulePreview; stale: boolean; theme: string }) {
  const p = props.preview;
  const n = p.intervals.length;
  return (
    <div className="rule-preview" data-testid="rule-preview-result">
      <p data-testid="rule-preview-summary">
        {p.note ??
          (n === 0
            ? `Would not have fired in the last 7 days (${p.evaluated} minutes evaluated).`
            : `Would have fired ${n} time${n === 1 ? '' : 's'} in the last 7 days, ${p.firedMinutes} minutes in all (${p.evaluated} minutes evaluated).`)}
        {props.stale && <span className="muted"> The form changed since: test again.</span>}
      </p>
      {p.series.length > 0 && <PreviewChart preview={p} theme={props.theme} />}
      {n > 0 && (
        <ol className="intervals small" data-testid="rule-preview-intervals">
          {p.intervals.slice(0, 12).map((i) => (
            <li key={i.start}>
              {fmtWhen(i.start)} – {i.open ? 'still firing' : fmtWhen(i.end)} · peak {i.peak}
            </li>
          ))}
        </ol>
      )}
      {n > 12 && <p className="muted small">… and {n - 12} more (shaded in the chart).</p>}
    </div>
  );
}
