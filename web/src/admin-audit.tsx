import { useEffect, useState } from 'react';
import { fmtWhen, InlineError } from './admin-widgets';
import { api } from './api';
import { type ApiKeyInfo, AUDIT_ACTIONS, type AuditEntry } from './api-types';
import { useApiAction } from './use-api-action';
import { Card } from './widgets';

const PAGE = 50;

/** `name: grafana · scopes: query`: detail values are user data, rendered as text only. */
const detailText = (d: AuditEntry['detail']) =>
  d
    ? Object.entries(d)
        .map(
          ([k, v]) =>
            `${k}: ${typeof v === 'string' ? v : Array.isArray(v) ? v.join(', ') : JSON.stringify(v)}`,
        )
        .join(' · ')
    : '';

/** Who or what an entry names, with API keys by name (`key "grafana"`); the raw value stays in the tooltip. */
function Named(props: { value: string | null; keyId: string | null; keyNames: Map<string, string> }) {
  const name = props.keyId ? props.keyNames.get(props.keyId) : undefined;
  return (
    <td className="clip" title={props.value ?? undefined}>
      {name !== undefined ? `key “${name}”` : (props.value ?? '—')}
    </td>
  );
}

/**
 * The audit log, newest first, a page at a time (`before` the oldest entry shown). `version` changes
 * after each change made on the page, which reloads the newest page so the change shows at once.
 */
export function AuditSection(props: { version: number; keys: ApiKeyInfo[]; onUnauthorized: () => void }) {
  const { error, busy, run } = useApiAction(props.onUnauthorized);
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [action, setAction] = useState('');

  const load = (before?: number) =>
    run(async () => {
      const page = await api.audit({ limit: PAGE, before });
      setEntries((cur) => {
        if (!before || !cur) return page.entries;
        // A reload may have landed while this page was on its way: keep each entry once.
        const seen = new Set(cur.map((e) => e.id));
        return [...cur, ...page.entries.filter((e) => !seen.has(e.id))];
      });
      // A short page is the last one.
      setNext(page.entries.length < PAGE ? null : page.next);
    });

  // biome-ignore lint/correctness/useExhaustiveDependencies: reload only when the page changed something.
  useEffect(() => {
    void load();
  }, [props.version]);

  const keyNames = new Map(props.keys.map((k) => [k.id, k.name]));
  // Filtering is over the entries loaded so far; "Load older" fetches more to filter.
  const shown = entries?.filter((e) => !action || e.action === action) ?? [];

  return (
    <Card title="Audit log" testId="admin-audit">
      <div className="form-row">
        <label>
          Action
          <select value={action} onChange={(e) => setAction(e.target.value)} data-testid="audit-filter">
            <option value="">all actions</option>
            {AUDIT_ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        {entries && action && (
          <span className="muted small">
            {shown.length} of {entries.length} loaded entries
          </span>
        )}
      </div>
      <div className="table-scroll">
        <table data-testid="audit-table">
          <thead>
            <tr>
              <th>Time</th>
              <th>Action</th>
              <th>Actor</th>
              <th>Target</th>
              <th>IP</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr key={e.id} data-action={e.action} title={e.userAgent ?? undefined}>
                <td>{fmtWhen(e.at, 'second')}</td>
                <td>
                  <span className={`pill${/failed|lockout|revoked|removed/.test(e.action) ? ' warn' : ''}`}>
                    {e.action}
                  </span>
                </td>
                <Named
                  value={e.actor}
                  keyId={e.actor?.match(/^api-key:(.+)$/)?.[1] ?? null}
                  keyNames={keyNames}
                />
                <Named
                  value={e.target}
                  keyId={e.action.startsWith('api_key_') ? e.target : null}
                  keyNames={keyNames}
                />
                <td>{e.ip ?? '—'}</td>
                <td className="detail">{detailText(e.detail)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {entries === null && !error && <p className="muted">Loading…</p>}
      {entries && shown.length === 0 && <p className="muted">No entries{action ? ` for ${action}` : ''}.</p>}
      <InlineError error={error} testId="audit-error" />
      {next !== null && (
        <button type="button" className="ghost load-more" disabled={busy} onClick={() => load(next)}>
          {busy ? 'Loading…' : 'Load older'}
        </button>
      )}
    </Card>
  );
}
