import { useCallback, useEffect, useState } from 'react';
import { ConfirmButton, fmtWhen, InlineError } from './admin-widgets';
import { RuleEditor } from './alert-rule-editor';
import { alertsApi, type MetricInfo, type StoredRule, type ThresholdRule } from './alerts-api';
import type { Session } from './api-types';
import { useApiAction } from './use-api-action';

interface Props {
  site: string;
  session: Session;
  theme: string;
  onUnauthorized: () => void;
}

/** In words: "orders over 15 min < 1, 08:00–23:00 mon–fri (Europe/Berlin), every site". */
export function ruleText(r: ThresholdRule): string {
  const when = [
    r.between ? `${r.between.from}–${r.between.to}` : '',
    r.days ? r.days.join(' ') : '',
    r.between || r.days ? `(${r.timeZone ?? 'UTC'})` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `${r.metric} over ${r.windowMinutes} min ${r.op} ${r.value}${when ? `, ${when}` : ''}`;
}

/** Threshold rules: the list everyone sees, and for analysts the editor with its 7-day preview. */
export function Rules(props: Props) {
  const list = useApiAction(props.onUnauthorized);
  const [rules, setRules] = useState<StoredRule[] | null>(null);
  const [metrics, setMetrics] = useState<MetricInfo[]>([]);
  const [editing, setEditing] = useState<StoredRule | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  // A saved rule starts a fresh form.
  const [saves, setSaves] = useState(0);
  const canEdit = props.session.permissions.query;

  const reload = useCallback(
    () =>
      list.run(async () => {
        const r = await alertsApi.rules();
        setRules(r.rules);
        setMetrics(r.metrics);
      }),
    [list.run],
  );
  useEffect(() => {
    void reload();
  }, [reload]);

  const remove = (r: StoredRule) =>
    list.run(async () => {
      await alertsApi.removeRule(props.session.csrfToken, r.rule.id);
      setNotice(`Rule ${r.rule.id} deleted; its open alerts are resolved.`);
      if (editing?.rule.id === r.rule.id) setEditing(null);
      await reload();
    });

  return (
    <div className="rules" data-testid="rules">
      {rules?.length === 0 && <p className="muted small">No threshold rules yet.</p>}
      {rules && rules.length > 0 && (
        <div className="table-scroll">
          <table data-testid="rule-list">
            <thead>
              <tr>
                <th>Rule</th>
                <th>Condition</th>
                <th>Site</th>
                <th>Severity</th>
                <th>Summary</th>
                <th>Changed</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rules.map((r) => (
                <tr key={r.rule.id} data-testid="rule-row">
                  <td className="mono">{r.rule.id}</td>
                  <td className="detail">
                    {ruleText(r.rule)}
                    {r.errors && <div className="error small">Not evaluated: {r.errors.join('; ')}</div>}
                  </td>
                  <td>{r.rule.site ?? 'every site'}</td>
                  <td>{r.rule.severity ?? 'warning'}</td>
                  <td className="detail">{r.rule.summary ?? '—'}</td>
                  <td>
                    {fmtWhen(r.updatedAt)} by {r.updatedBy}
                  </td>
                  <td className="row-actions">
                    {canEdit && (
                      <>
                        <button
                          type="button"
                          className="ghost small"
                          onClick={() => {
                            setNotice(null);
                            setEditing(r);
                          }}
                        >
                          Edit
                        </button>
                        <ConfirmButton
                          label="Delete"
                          confirmLabel="Yes, delete"
                          disabled={list.busy}
                          onConfirm={() => remove(r)}
                        />
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {notice && (
        <p className="notice small" role="status" data-testid="rules-notice">
          {notice}
        </p>
      )}
      <InlineError error={list.error} testId="rules-error" />
      {canEdit ? (
        <RuleEditor
          key={`${editing?.rule.id ?? 'new'}:${saves}`}
          site={props.site}
          session={props.session}
          theme={props.theme}
          metrics={metrics}
          editing={editing?.rule ?? null}
          onUnauthorized={props.onUnauthorized}
          onCancel={() => setEditing(null)}
          onSaved={(r, created) => {
            setNotice(`Rule ${r.rule.id} ${created ? 'created' : 'saved'}; it is evaluated from now on.`);
            setEditing(null);
            setSaves((n) => n + 1);
            void reload();
          }}
        />
      ) : (
        <p className="muted small">Analysts and admins can write rules.</p>
      )}
    </div>
  );
}
