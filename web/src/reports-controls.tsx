import { useEffect, useId, useState } from 'react';
import type { ReportParameter } from './reports-api';
import { addDays, isDay, lastDays, PRESETS, type ReportView } from './reports-view';

const bound = (n: number) => n.toLocaleString();
const human = (name: string) => name[0].toUpperCase() + name.slice(1).replaceAll('_', ' ');

/**
 * First and last day (both inclusive, UTC) and presets. The view keeps the API's exclusive `to`;
 * people pick the last day they want to see.
 */
export function DateRange(props: {
  view: ReportView;
  onChange: (range: { from: string; to: string }) => void;
}) {
  const { from, to } = props.view;
  const last = addDays(to, -1);
  const current = PRESETS.find((n) => {
    const r = lastDays(n);
    return r.from === from && r.to === to;
  });
  return (
    <fieldset className="report-range" data-testid="report-range">
      <legend className="sr-only">Date range (UTC days)</legend>
      <label>
        First day
        <input
          type="date"
          value={from}
          max={last}
          required
          onChange={(e) => isDay(e.target.value) && props.onChange({ from: e.target.value, to })}
          data-testid="report-from"
        />
      </label>
      <label>
        Last day
        <input
          type="date"
          value={last}
          min={from}
          required
          onChange={(e) => isDay(e.target.value) && props.onChange({ from, to: addDays(e.target.value, 1) })}
          data-testid="report-to"
        />
      </label>
      <fieldset className="report-presets">
        <legend className="sr-only">Presets</legend>
        {PRESETS.map((n) => (
          <button
            key={n}
            type="button"
            className="ghost small"
            aria-pressed={current === n}
            onClick={() => props.onChange(lastDays(n))}
          >
            Last {n} days
          </button>
        ))}
      </fieldset>
    </fieldset>
  );
}

export function BotsToggle(props: { view: ReportView; onChange: (bots: ReportView['bots']) => void }) {
  return (
    <label className="report-bots" title="Events flagged as bots are left out unless this is on">
      <input
        type="checkbox"
        checked={props.view.bots === 'include'}
        onChange={(e) => props.onChange(e.target.checked ? 'include' : 'exclude')}
        data-testid="report-bots"
      />
      Include bot traffic
    </label>
  );
}

/** One field per report parameter, built from the API's description of it. */
export function ParamField(props: {
  param: ReportParameter;
  value: string;
  invalid: boolean;
  onChange: (value: string) => void;
}) {
  const { param: p } = props;
  const id = useId();
  const hint = `${id}-hint`;
  const common = {
    id,
    'aria-describedby': hint,
    'aria-invalid': props.invalid || undefined,
    'data-testid': `report-param-${p.name}`,
  };
  return (
    <div className="report-param">
      <label htmlFor={id}>{human(p.name)}</label>
      {p.type === 'enum' ? (
        <select value={props.value} onChange={(e) => props.onChange(e.target.value)} {...common}>
          {p.values?.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      ) : (
        <NumberInput param={p} value={props.value} onCommit={props.onChange} common={common} />
      )}
      <span id={hint} className="muted small">
        {p.description}
        {p.min !== undefined && p.max !== undefined ? ` (${bound(p.min)}–${bound(p.max)})` : ''}
      </span>
    </div>
  );
}

/** Typing does not run the report on every key: the value is applied on Enter or leaving the field. */
function NumberInput(props: {
  param: ReportParameter;
  value: string;
  onCommit: (v: string) => void;
  common: Record<string, unknown>;
}) {
  const [draft, setDraft] = useState(props.value);
  useEffect(() => setDraft(props.value), [props.value]);
  const commit = () => draft.trim() !== props.value && props.onCommit(draft.trim());
  return (
    <input
      type="number"
      inputMode={props.param.type === 'integer' ? 'numeric' : 'decimal'}
      min={props.param.min}
      max={props.param.max}
      step={props.param.type === 'integer' ? 1 : 'any'}
      value={draft}
      onChange={(e) => setDraft(e.target.value)}
      onBlur={commit}
      onKeyDown={(e) => e.key === 'Enter' && commit()}
      {...props.common}
    />
  );
}
