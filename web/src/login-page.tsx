import { type FormEvent, useState } from 'react';
import { ApiError, api, Unauthorized } from './api';
import type { Session } from './api-types';

/**
 * Sign-in form; with `setupToken` (the first-run link `/setup?token=…`) the same form creates the
 * first admin instead.
 */
export function LoginPage(props: { onLogin: (s: Session) => void; setupToken?: string | null }) {
  const setup = props.setupToken != null;
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onLogin(
        await (setup ? api.setup(props.setupToken ?? '', email, password) : api.login(email, password)),
      );
    } catch (err) {
      setError(
        err instanceof Unauthorized
          ? setup
            ? 'This setup link is no longer valid; restart storepulse for a new one.'
            : 'Wrong email or password.'
          : err instanceof ApiError
            ? err.message
            : 'storepulse cannot be reached; try again.',
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="card login-card" onSubmit={submit} data-testid="login-form">
        <h1>
          <span className="logo" aria-hidden="true" /> storepulse
        </h1>
        <p className="muted">
          {setup ? 'Create the first admin account.' : 'Sign in to watch your shop live.'}
        </p>
        <label>
          Email
          <input
            type="email"
            name="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            name="password"
            autoComplete={setup ? 'new-password' : 'current-password'}
            minLength={setup ? 12 : undefined}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Please wait…' : setup ? 'Create admin' : 'Sign in'}
        </button>
        {setup ? (
          <p className="muted small">At least 12 characters; a passphrase of several words is best.</p>
        ) : (
          <p className="muted small">
            No account yet? An admin creates one with <code>storepulse users add EMAIL --role viewer</code>.
          </p>
        )}
      </form>
    </main>
  );
}
