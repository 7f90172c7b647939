/** Who may cancel a running query: whoever started it, or an admin. */
export interface QueryOwner {
  id: string;
  admin: boolean;
}

export type CancelOutcome = { ok: true } | { ok: false; status: 403 | 404; reason: string };

const QUERY_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const isQueryId = (v: unknown): v is string => typeof v === 'string' && QUERY_ID.test(v);

/**
 * The queries running now, by the id the client chose, so a second request can cancel one.
 * An id is registered for as long as its query runs; ids are scoped per owner, so one user
 * cannot guess another's id and stop their work.
 */
export class RunningQueries {
  private readonly running = new Map<string, { owner: QueryOwner; controller: AbortController }>();

  private key = (ownerId: string, queryId: string) => `${ownerId}\u0000${queryId}`;

  /** Registers a query; null when the same owner already runs one under this id. */
  start(owner: QueryOwner, queryId: string): { signal: AbortSignal; finish: () => void } | null {
    const key = this.key(owner.id, queryId);
    if (this.running.has(key)) return null;
    const controller = new AbortController();
    this.running.set(key, { owner, controller });
    return { signal: controller.signal, finish: () => this.running.delete(key) };
  }

  /** The owner cancels their own query by id; an admin may name any owner's. */
  cancel(caller: QueryOwner, queryId: string): CancelOutcome {
    for (const [key, entry] of this.running) {
      if (!key.endsWith(`\u0000${queryId}`)) continue;
      if (entry.owner.id !== caller.id && !caller.admin) continue;
      entry.controller.abort();
      return { ok: true };
    }
    return { ok: false, status: 404, reason: `no running query ${queryId} of yours (it may have finished)` };
  }

  get size(): number {
    return this.running.size;
  }
}
