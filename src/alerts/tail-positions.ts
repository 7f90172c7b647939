import { floorMinute, MINUTE } from './detectors/series.js';

/**
 * Which stream records a restart must replay to rebuild the state that is not saved (open
 * minutes, sessions, sliding counters): per site, the first position seen for each recent
 * minute of event time; the replay starts at the earliest of those within `spanMs` of the
 * site's newest event time.
 */
export class TailPositions {
  private readonly first = new Map<string, Map<number, number>>();

  constructor(private readonly spanMs: number) {}

  track(site: string, eventTime: number, position: number): void {
    let map = this.first.get(site);
    if (!map) {
      map = new Map();
      this.first.set(site, map);
    }
    const minute = floorMinute(eventTime);
    if (!map.has(minute)) map.set(minute, position);
  }

  /** The first position to replay (`position + 1` if none), forgetting minutes that fell out of the span. */
  from(position: number, newest: (site: string) => number): number {
    let from = position + 1;
    for (const [site, map] of this.first) {
      const cutoff = floorMinute(newest(site) - this.spanMs) - MINUTE;
      for (const [minute, p] of map) {
        if (minute < cutoff) map.delete(minute);
        else from = Math.min(from, p);
      }
    }
    return from;
  }
}
