import type { RealtimeProcessor } from './processor.js';

export type RebuildSource = 'lake' | 'stream';

export interface RebuildStatus {
  state: 'idle' | 'running' | 'done' | 'failed';
  source: RebuildSource | null;
  /** Events with event_time (lake) or append time (stream) at or after this, epoch ms. */
  from: number | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** Events replayed from the lake so far (a stream rebuild reports 0 and catches up live). */
  events: number;
  /** Events the lake replay will read in all (known once it has counted them). */
  total: number | null;
  /** The stream position the processor resumed after (lake rebuilds). */
  resumedAfter: number | null;
  error: string | null;
  requestedBy: string | null;
}

const IDLE: RebuildStatus = {
  state: 'idle',
  source: null,
  from: null,
  startedAt: null,
  finishedAt: null,
  events: 0,
  total: null,
  resumedAfter: null,
  error: null,
  requestedBy: null,
};

/**
 * One rebuild of the realtime state at a time, run in the background so the HTTP request that
 * starts it returns at once; its progress is polled. Live traffic keeps being acknowledged
 * meanwhile: it waits in the stream and is applied when the rebuild resumes consumption.
 */
export class RebuildJobs {
  private current: RebuildStatus = { ...IDLE };

  constructor(
    private readonly realtime: RealtimeProcessor,
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  status(): RebuildStatus {
    return { ...this.current };
  }

  /** Starts a rebuild, or returns null when one is already running. */
  start(source: RebuildSource, from: number, requestedBy: string): RebuildStatus | null {
    if (this.current.state === 'running') return null;
    this.current = { ...IDLE, state: 'running', source, from, startedAt: Date.now(), requestedBy };
    const job = this.current;
    const run =
      source === 'lake'
        ? this.realtime
            .rebuildFromLake({ time: from }, (p) => {
              job.events = p.events;
              job.total = p.total;
            })
            .then((r) => {
              job.events = r.events;
              job.resumedAfter = r.resumedAfter;
            })
        : this.realtime.rebuild({ time: from });
    run.then(
      () => {
        job.state = 'done';
        job.finishedAt = Date.now();
      },
      (err: Error) => {
        job.state = 'failed';
        job.error = err.message;
        job.finishedAt = Date.now();
        this.onError(new Error(`realtime rebuild from the ${source} failed: ${err.message}`));
      },
    );
    return this.status();
  }

  /** Resolves when the running rebuild (if any) has finished. */
  async settled(pollMs = 50): Promise<RebuildStatus> {
    while (this.current.state === 'running') await new Promise((r) => setTimeout(r, pollMs));
    return this.status();
  }
}
