import { useState } from 'react';

const FORMATS: Record<'day' | 'minute' | 'second', Intl.DateTimeFormatOptions> = {
  day: { year: 'numeric', month: 'short', day: 'numeric' },
  minute: { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' },
  second: {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  },
};

/** A time as precisely as it is read: audit entries to the second, creation dates to the day. */
export const fmtWhen = (t: number | null, precision: keyof typeof FORMATS = 'minute') =>
  t === null ? '—' : new Date(t).toLocaleString(undefined, FORMATS[precision]);

/** The API's refusal, in the section that caused it. */
export function InlineError(props: { error: string | null; testId: string }) {
  if (!props.error) return null;
  return (
    <p className="error" role="alert" data-testid={props.testId}>
      {props.error}
    </p>
  );
}

/** A destructive button that asks again in place (no browser dialog) before it acts. */
export function ConfirmButton(props: {
  label: string;
  confirmLabel: string;
  disabled?: boolean;
  title?: string;
  onConfirm: () => void;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button
        type="button"
        className="ghost danger-text small"
        disabled={props.disabled}
        title={props.title}
        onClick={() => setAsking(true)}
      >
        {props.label}
      </button>
    );
  }
  return (
    <>
      <button
        type="button"
        className="danger small"
        disabled={props.disabled}
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        {props.confirmLabel}
      </button>
      <button type="button" className="ghost small" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </>
  );
}
