import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ConfirmButton, fmtWhen, InlineError } from './admin-widgets';
import { api } from './api';
import type { ApiKeyInfo, Scope, Session } from './api-types';
import { useApiAction } from './use-api-action';
import { Card } from './widgets';

interface Props {
  session: Session;
  onUnauthorized: () => void;
  onChanged: () => void;
  /** Every list loaded, so the audit log can name keys instead of showing their ids. */
  onKeys: (keys: ApiKeyInfo[]) => void;
}

const SCOPE_HINT: Record<Scope, string> = {
  query: 'query: read realtime, run SQL',
  admin: 'admin: everything, including users and keys',
};

// Active keys first, newest first within each group.
const ordered = (keys: ApiKeyInfo[]) =>
  [...keys].sort(
    (a, b) => Number(a.revokedAt !== null) - Number(b.revokedAt !== null) || b.createdAt - a.createdAt,
  );

/** API keys for programs: list, create (the secret is shown once), revoke. */
export function ApiKeysSection(props: Props) {
  const csrf = props.session.csrfToken;
  const { error, busy, run } = useApiAction(props.onUnauthorized);
  const [keys, setKeys] = useState<ApiKeyInfo[] | null>(null);
  const [created, setCreated] = useState<{ key: string; name: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const reload = () =>
    run(async () => {
      const list = ordered(await api.apiKeys());
      setKeys(list);
      props.onKeys(list);
    });
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once; later loads follow changes.
  useEffect(() => {
    void reload();
  }, []);

  const revoke = async (k: ApiKeyInfo) => {
    setNotice(null);
    if (await run(() => api.revokeApiKey(csrf, k.id))) {
      setNotice(`Key "${k.name}" revoked; programs using it are refused from now on.`);
      props.onChanged();
      await reload();
    }
  };

  return (
    <Card title="API keys" testId="admin-keys">
      <div className="table-scroll">
        <table data-testid="keys-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Scopes</th>
              <th>Created</th>
              <th>Last used</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {keys?.map((k) => (
              <tr key={k.id} data-testid={`key-${k.id}`} className={k.revokedAt ? 'muted' : undefined}>
                <td className="clip" title={k.name}>
                  {k.name}
                </td>
                <td>
                  {k.scopes.map((s) => (
                    <span key={s} className="pill">
                      {s}
                    </span>
                  ))}
                </td>
                <td>{fmtWhen(k.createdAt, 'day')}</td>
                <td>{k.lastUsedAt ? fmtWhen(k.lastUsedAt) : 'never'}</td>
                <td>
                  {k.revokedAt ? (
                    `revoked ${fmtWhen(k.revokedAt)}`
                  ) : (
                    <span className="row-actions">
                      active
                      <ConfirmButton
                        label="Revoke"
                        confirmLabel={`Yes, revoke ${k.name}`}
                        disabled={busy}
                        onConfirm={() => revoke(k)}
                      />
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {keys?.length === 0 && <p className="muted">No API keys yet.</p>}
      {keys === null && !error && <p className="muted">Loading…</p>}
      <InlineError error={error} testId="keys-error" />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {created && <NewKeySecret created={created} onDone={() => setCreated(null)} />}
      <CreateKeyForm
        busy={busy}
        onCreate={async (name, scope) => {
          setNotice(null);
          setCreated(null);
          const ok = await run(async () => {
            const r = await api.createApiKey(csrf, name, [scope]);
            setCreated({ key: r.key, name: r.apiKey.name });
          });
          if (ok) {
            props.onChanged();
            await reload();
          }
          return ok;
        }}
      />
    </Card>
  );
}

/** The only time the secret is on screen: the server keeps a hash and cannot show it again. */
function NewKeySecret(props: { created: { key: string; name: string }; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const code = useRef<HTMLElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.created.key);
      setCopied('Copied.');
    } catch {
      // The clipboard API needs HTTPS (or localhost): select the key so Ctrl+C / ⌘C copies it.
      const range = document.createRange();
      if (code.current) range.selectNodeContents(code.current);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      setCopied('Selected: press Ctrl+C (⌘C) to copy.');
    }
  };
  return (
    <div className="secret" data-testid="new-key">
      <p>
        <strong>New key "{props.created.name}".</strong> Copy it now: it will not be shown again.
      </p>
      <div className="secret-value">
        <code ref={code} data-testid="new-key-secret">
          {props.created.key}
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

function CreateKeyForm(props: { busy: boolean; onCreate: (name: string, scope: Scope) => Promise<boolean> }) {
  const [name, setName] = useState('');
  const [scope, setScope] = useState<Scope>('query');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await props.onCreate(name, scope)) setName('');
  };
  return (
    <form className="form-row add-form" onSubmit={submit} data-testid="create-key-form">
      <h3>Create a key</h3>
      <label>
        Name
        <input
          name="key-name"
          placeholder="what it is for, e.g. grafana"
          maxLength={200}
          required
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
      </label>
      <label>
        Scope
        <select value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
          {(['query', 'admin'] as const).map((s) => (
            <option key={s} value={s}>
              {SCOPE_HINT[s]}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={props.busy}>
        Create key
      </button>
    </form>
  );
}
