import { useEffect, useState } from 'react';
import { api, Unauthorized } from './api';
import type { Snapshot } from './api-types';
import { type RangeId, snapshotParams } from './ranges';

export type FeedStatus = 'connecting' | 'live' | 'polling' | 'reconnecting' | 'error';

const POLL_MS = 10_000;

/**
 * The site's snapshot: pushed by the server (EventSource, ≥ 1/s) for the live range, fetched every
 * 10 s for fixed ranges. A 401 anywhere sends the user back to the login page.
 */
export function useSnapshot(site: string, range: RangeId, onUnauthorized: () => void) {
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  const [status, setStatus] = useState<FeedStatus>('connecting');
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);

  useEffect(() => {
    setSnapshot(null);
    setStatus('connecting');
    const received = (s: Snapshot) => {
      setSnapshot(s);
      setUpdatedAt(Date.now());
    };

    if (range === 'live') {
      const source = new EventSource(api.streamUrl(site, snapshotParams('live')));
      source.addEventListener('snapshot', (e) => {
        received(JSON.parse((e as MessageEvent<string>).data));
        setStatus('live');
      });
      // EventSource hides the HTTP status: ask /me whether the session is the reason.
      source.onerror = () => {
        setStatus('reconnecting');
        api.me().catch((err) => {
          if (err instanceof Unauthorized) {
            source.close();
            onUnauthorized();
          }
        });
      };
      return () => source.close();
    }

    let stopped = false;
    const load = () =>
      api.snapshot(site, snapshotParams(range)).then(
        (s) => {
          if (stopped) return;
          received(s);
          setStatus('polling');
        },
        (err) => {
          if (err instanceof Unauthorized) onUnauthorized();
          else if (!stopped) setStatus('error');
        },
      );
    load();
    const timer = setInterval(load, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [site, range, onUnauthorized]);

  return { snapshot, status, updatedAt };
}
