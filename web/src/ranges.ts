import type { SnapshotParams } from './api';

export type RangeId = 'live' | '1h' | '24h' | '7d';
export const RANGES: { id: RangeId; label: string }[] = [
  { id: 'live', label: 'Live' },
  { id: '1h', label: 'Last hour' },
  { id: '24h', label: 'Last 24 h' },
  { id: '7d', label: 'Last 7 days' },
];
const HOUR = 3_600_000;
const SPAN: Record<Exclude<RangeId, 'live'>, number> = { '1h': HOUR, '24h': 24 * HOUR, '7d': 7 * 24 * HOUR };

export const isRange = (v: string | null): v is RangeId => RANGES.some((r) => r.id === v);

/** 'live' streams the last hour by minute; fixed ranges are fetched by minute up to a day, else by hour. */
export function snapshotParams(range: RangeId, now = Date.now()): SnapshotParams {
  if (range === 'live') return { range: 'live', resolution: 'minute' };
  return { range: `${now - SPAN[range]}..${now}`, resolution: range === '1h' ? 'minute' : 'hour' };
}
