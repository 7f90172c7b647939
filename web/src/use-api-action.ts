import { useCallback, useRef, useState } from 'react';
import { ApiError, Unauthorized } from './api';

/** What went wrong, in words for the person: the server's own reason when it gave one. */
export const messageOf = (err: unknown): string =>
  err instanceof ApiError ? err.message : 'storepulse cannot be reached; try again.';

/**
 * Runs API calls for a section of a page: `busy` while one runs, its refusal in `error` (shown inline
 * by the section), and a session that ended sends the app back to the login page.
 */
export function useApiAction(onUnauthorized: () => void) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Survives re-renders without re-creating `run`, so effects that call it do not loop.
  const signedOut = useRef(onUnauthorized);
  signedOut.current = onUnauthorized;

  /** Resolves true when `fn` succeeded. */
  const run = useCallback(async (fn: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      return true;
    } catch (err) {
      if (err instanceof Unauthorized) signedOut.current();
      else setError(messageOf(err));
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { error, busy, run, setError };
}
