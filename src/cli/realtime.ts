import type { RebuildStatus } from '../realtime/rebuild-job.js';
import { progressBar } from './progress.js';

export interface RebuildCliOptions {
  url: string;
  apiKey?: string;
  from: string;
  source: 'lake' | 'stream';
}

/**
 * `storepulse realtime rebuild`: asks the running server to recompute its live metrics (the
 * server owns the realtime state, so the work happens there) and follows the progress.
 */
export async function realtimeRebuild(o: RebuildCliOptions): Promise<number> {
  const apiKey = o.apiKey ?? process.env.STOREPULSE_API_KEY;
  if (!apiKey) {
    console.error(
      'storepulse: an admin API key is needed: pass --api-key or set STOREPULSE_API_KEY (create one with `storepulse keys create rebuild --scope admin`)',
    );
    return 2;
  }
  const from = /^\d+$/.test(o.from) ? Number(o.from) : Date.parse(o.from);
  if (!Number.isFinite(from)) {
    console.error(
      `storepulse: --from "${o.from}" is not a time; use ISO-8601, e.g. 2026-11-01 or 2026-11-01T08:00:00Z`,
    );
    return 2;
  }
  const endpoint = new URL('/api/v1/realtime/rebuild', o.url).toString();
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers,
      body: JSON.stringify({ from, source: o.source }),
    });
  } catch (err) {
    console.error(
      `storepulse: cannot reach ${o.url} (${(err as Error).message}); is \`storepulse serve\` running?`,
    );
    return 1;
  }
  if (res.status !== 202) {
    const body = (await res.json().catch(() => null)) as { error?: string } | null;
    console.error(`storepulse: rebuild refused (${res.status}): ${body?.error ?? res.statusText}`);
    return 1;
  }
  const bar = progressBar(`rebuilding live metrics from the ${o.source}`, { unit: 'events' });
  let status = (await res.json()) as RebuildStatus;
  while (status.state === 'running') {
    await new Promise((r) => setTimeout(r, 500));
    status = (await (await fetch(endpoint, { headers })).json()) as RebuildStatus;
    if (status.total) bar.update(status.events / status.total, status.events);
  }
  bar.done();
  if (status.state !== 'done') {
    console.error(`storepulse: rebuild failed: ${status.error}`);
    return 1;
  }
  const took = ((status.finishedAt ?? 0) - (status.startedAt ?? 0)) / 1000;
  console.log(
    o.source === 'lake'
      ? `rebuilt from ${status.events.toLocaleString('en-US')} lake events in ${took.toFixed(1)} s; live consumption resumed after stream position ${status.resumedAfter}`
      : `state reset; the stream is being replayed from ${new Date(from).toISOString()} (follow it on the Ops page)`,
  );
  return 0;
}
