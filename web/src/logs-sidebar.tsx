import type { FieldTops } from './logs-api';

const LABELS: Record<keyof FieldTops, string> = {
  status: 'Status',
  path: 'Path',
  ip: 'Client IP',
  user_agent: 'User agent',
};

/** Top values of each field over all matches; a value adds `field:"value"`, the minus excludes it. */
export function LogsSidebar(props: {
  tops: FieldTops | null;
  total: number;
  onFilter: (field: string, value: string, exclude: boolean) => void;
}) {
  if (!props.tops) return <aside className="logs-side card muted">Loading fields…</aside>;
  return (
    <aside className="logs-side card" data-testid="logs-fields" aria-label="Top values">
      {(Object.keys(LABELS) as (keyof FieldTops)[]).map((field) => (
        <section key={field} data-testid={`logs-field-${field}`}>
          <h3>{LABELS[field]}</h3>
          {props.tops?.[field].length === 0 && <p className="small muted">none</p>}
          <ul>
            {props.tops?.[field].map((t) => {
              const value = t.value === null ? '' : String(t.value);
              const share = props.total > 0 ? t.count / props.total : 0;
              return (
                <li key={value}>
                  <button
                    type="button"
                    className="logs-value"
                    title={`Filter for ${field}: ${value}`}
                    disabled={t.value === null}
                    onClick={() => props.onFilter(field, value, false)}
                    data-testid="logs-field-value"
                  >
                    <span className="logs-value-bar" style={{ width: `${Math.round(share * 100)}%` }} />
                    <span className="logs-value-text">{t.value === null ? '(empty)' : value}</span>
                    <span className="logs-value-count">{t.count.toLocaleString()}</span>
                  </button>
                  <button
                    type="button"
                    className="ghost logs-exclude"
                    title={`Filter out ${field}: ${value}`}
                    aria-label={`Filter out ${field} ${value}`}
                    disabled={t.value === null}
                    onClick={() => props.onFilter(field, value, true)}
                  >
                    −
                  </button>
                </li>
              );
            })}
          </ul>
        </section>
      ))}
    </aside>
  );
}
