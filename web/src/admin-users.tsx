import { type FormEvent, useEffect, useState } from 'react';
import { ConfirmButton, fmtWhen, InlineError } from './admin-widgets';
import { api } from './api';
import { ROLES, type Role, type Session, type UserInfo } from './api-types';
import { useApiAction } from './use-api-action';
import { Card } from './widgets';

interface Props {
  session: Session;
  onUnauthorized: () => void;
  /** Called after every change, so the audit log can show it. */
  onChanged: () => void;
}

const ROLE_HINT: Record<Role, string> = {
  viewer: 'viewer: live metrics',
  analyst: 'analyst: also SQL',
  admin: 'admin: also users, keys, audit',
};

/** Dashboard users: add, change role, reset password, remove. The server enforces every rule. */
export function UsersSection(props: Props) {
  const { session, onChanged } = props;
  const csrf = session.csrfToken;
  const { error, busy, run } = useApiAction(props.onUnauthorized);
  const [users, setUsers] = useState<UserInfo[] | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const reload = () => run(async () => setUsers(await api.users()));
  // biome-ignore lint/correctness/useExhaustiveDependencies: load once; later loads follow changes.
  useEffect(() => {
    void reload();
  }, []);

  const changed = (message: string) => {
    setNotice(message);
    onChanged();
    return reload();
  };

  const setRole = async (u: UserInfo, role: Role) => {
    setNotice(null);
    if (await run(() => api.changeUser(csrf, u.id, { role })))
      await changed(`${u.email} is now ${role}; it applies to their open sessions at once.`);
  };
  const remove = async (u: UserInfo) => {
    setNotice(null);
    if (await run(() => api.removeUser(csrf, u.id))) await changed(`${u.email} removed and signed out.`);
  };

  return (
    <Card title="Users" testId="admin-users">
      <div className="table-scroll">
        <table data-testid="users-table">
          <thead>
            <tr>
              <th>Email</th>
              <th>Role</th>
              <th>Created</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users?.map((u) => {
              const self = u.id === session.user.id;
              return (
                <UserRow
                  key={u.id}
                  user={u}
                  self={self}
                  busy={busy}
                  onRole={(role) => setRole(u, role)}
                  onRemove={() => remove(u)}
                  onPassword={async (password) => {
                    const ok = await run(() => api.changeUser(csrf, u.id, { password }));
                    if (ok) {
                      await changed(
                        self
                          ? 'Your password is changed; your other browsers are signed out.'
                          : `Password of ${u.email} changed; they are signed out everywhere.`,
                      );
                    }
                    return ok;
                  }}
                />
              );
            })}
          </tbody>
        </table>
      </div>
      {users === null && !error && <p className="muted">Loading…</p>}
      <InlineError error={error} testId="users-error" />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <AddUserForm
        busy={busy}
        onAdd={async (user) => {
          setNotice(null);
          const ok = await run(() => api.addUser(csrf, user));
          if (ok) await changed(`${user.email} added as ${user.role}; they can sign in now.`);
          return ok;
        }}
      />
    </Card>
  );
}

function UserRow(props: {
  user: UserInfo;
  self: boolean;
  busy: boolean;
  onRole: (role: Role) => void;
  onRemove: () => void;
  onPassword: (password: string) => Promise<boolean>;
}) {
  const { user: u, self, busy } = props;
  const [editing, setEditing] = useState(false);
  const [password, setPassword] = useState('');
  return (
    <>
      <tr data-testid={`user-${u.email}`}>
        <td>
          {u.email} {self && <span className="pill">you</span>}
        </td>
        <td>
          <select
            aria-label={`Role of ${u.email}`}
            value={u.role}
            disabled={busy || self}
            title={self ? 'You cannot change your own role; another admin can.' : undefined}
            onChange={(e) => props.onRole(e.target.value as Role)}
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </td>
        <td>{fmtWhen(u.createdAt, 'day')}</td>
        <td>
          <span className="row-actions">
            <button
              type="button"
              className="ghost small"
              aria-expanded={editing}
              onClick={() => setEditing(!editing)}
            >
              Reset password
            </button>
            <ConfirmButton
              label="Remove"
              confirmLabel={`Yes, remove ${u.email}`}
              disabled={busy || self}
              title={self ? 'You cannot remove your own account; another admin can.' : undefined}
              onConfirm={props.onRemove}
            />
          </span>
        </td>
      </tr>
      {editing && (
        <tr className="inline-form-row">
          <td colSpan={4}>
            <form
              className="form-row"
              onSubmit={async (e) => {
                e.preventDefault();
                if (await props.onPassword(password)) {
                  setPassword('');
                  setEditing(false);
                }
              }}
            >
              <label>
                New password for {u.email}
                <input
                  type="password"
                  autoComplete="new-password"
                  minLength={12}
                  required
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                />
              </label>
              <button type="submit" disabled={busy}>
                Set password
              </button>
              <button type="button" className="ghost" onClick={() => setEditing(false)}>
                Cancel
              </button>
              <span className="muted small">
                {self ? 'Your other browsers will be signed out.' : 'They will be signed out everywhere.'}
              </span>
            </form>
          </td>
        </tr>
      )}
    </>
  );
}

function AddUserForm(props: {
  busy: boolean;
  onAdd: (user: { email: string; role: Role; password: string }) => Promise<boolean>;
}) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [password, setPassword] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await props.onAdd({ email, role, password })) {
      setEmail('');
      setPassword('');
    }
  };
  return (
    <form className="form-row add-form" onSubmit={submit} data-testid="add-user-form">
      <h3>Add a user</h3>
      <label>
        Email
        <input
          type="email"
          name="new-user-email"
          autoComplete="off"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
      </label>
      <label>
        Role
        <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {ROLE_HINT[r]}
            </option>
          ))}
        </select>
      </label>
      <label>
        Password
        <input
          type="password"
          name="new-user-password"
          autoComplete="new-password"
          minLength={12}
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      <button type="submit" disabled={props.busy}>
        Add user
      </button>
      <p className="muted small">
        At least 12 characters; give it to them in person or over a channel you trust.
      </p>
    </form>
  );
}
