import { basename, resolve } from 'node:path';
import { FileFollower } from './file-follower.js';
import { TailState } from './tail-state.js';

/**
 * `storepulse logs tail`: follows files and sends their lines to a running server's
 * `POST /api/v1/logs/lines` (authenticated with the site's write key). A file's saved position
 * moves only after the server answered 2xx, so a restart resumes where the server's
 * acknowledgement ended; while the server is down it retries with backoff and says so.
 */

export interface TailOptions {
  files: string[];
  url: string;
  key: string;
  format: string;
  /** Source name for every file; default each file's name. */
  source?: string;
  statePath: string;
  fromEnd?: boolean;
  batchLines?: number;
  pollMs?: number;
  /** Send what the files hold now, then stop (instead of following). */
  once?: boolean;
  signal?: AbortSignal;
  log?: (message: string) => void;
  /** After each acknowledged batch. */
  onSent?: (file: string, lines: number) => void;
}

export interface TailSummary {
  lines: number;
  batches: number;
  /** Lines the server already had (sent before a crash, acknowledged, but not yet recorded here). */
  duplicates: number;
}

/** The server's answer: sent, worth retrying (down, overloaded), or a mistake retrying cannot fix. */
type SendResult = { ok: true; duplicates: number } | { ok: false; retry: boolean; reason: string };

export async function sendLines(
  url: string,
  key: string,
  q: { format: string; source: string; id: string; offset: number },
  text: string,
): Promise<SendResult> {
  const target = new URL('/api/v1/logs/lines', url);
  target.searchParams.set('format', q.format);
  target.searchParams.set('source', q.source);
  // The lines' place in the file: the server stores a resent line (after a crash) only once.
  target.searchParams.set('id', q.id);
  target.searchParams.set('offset', String(q.offset));
  let res: Response;
  try {
    res = await fetch(target, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain; charset=utf-8' },
      body: text,
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, retry: true, reason: cause?.code ?? cause?.message ?? (err as Error).message };
  }
  const answer = await res.text().catch(() => '');
  if (res.ok) {
    let duplicates = 0;
    try {
      duplicates = Number((JSON.parse(answer) as { duplicates?: number }).duplicates ?? 0);
    } catch {}
    return { ok: true, duplicates };
  }
  let message = answer.slice(0, 300);
  try {
    message = (JSON.parse(answer) as { error?: string }).error ?? message;
  } catch {}
  const reason = `HTTP ${res.status}: ${message}`;
  if (res.status === 401 || res.status === 403)
    return {
      ok: false,
      retry: false,
      reason: `${reason} (pass the site's write key: storepulse sites list)`,
    };
  if (res.status === 404)
    return { ok: false, retry: false, reason: `${reason} (is ${url} a storepulse server?)` };
  return { ok: false, retry: res.status >= 500 || res.status === 429 || res.status === 408, reason };
}

export async function runTail(o: TailOptions): Promise<TailSummary> {
  const log = o.log ?? ((m: string) => console.error(m));
  const state = new TailState(o.statePath);
  state.open();
  const followers = o.files.map(
    (f) =>
      new FileFollower(resolve(f), state.get(f), {
        fromEnd: o.fromEnd,
        maxLines: o.batchLines ?? 5000,
        onNotice: (m) => log(m),
      }),
  );
  const summary: TailSummary = { lines: 0, batches: 0, duplicates: 0 };
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      o.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          r();
        },
        { once: true },
      );
    });
  let failures = 0;
  try {
    while (!o.signal?.aborted) {
      let sent = false;
      for (const f of followers) {
        if (o.signal?.aborted) break;
        const before = f.position;
        const chunk = f.next();
        // A rotation or truncation moves the position without lines: remember it at once.
        const after = f.position;
        if (!chunk) {
          if (after && JSON.stringify(after) !== JSON.stringify(before)) state.save(f.path, after);
          continue;
        }
        const lines = chunk.lines.filter((l) => l.trim() !== '');
        if (lines.length > 0) {
          for (;;) {
            const r = await sendLines(
              o.url,
              o.key,
              { format: o.format, source: o.source ?? basename(f.path), id: chunk.gen, offset: chunk.offset },
              chunk.text,
            );
            if (r.ok) {
              if (r.duplicates > 0)
                log(`${r.duplicates} line(s) of ${f.path} had already arrived before a restart; stored once`);
              summary.duplicates += r.duplicates;
              break;
            }
            if (!r.retry) throw new Error(`the server refused the lines from ${f.path}: ${r.reason}`);
            failures++;
            const wait = Math.min(30_000, 500 * 2 ** Math.min(failures - 1, 6));
            log(
              `cannot send to ${o.url} (${r.reason}); retrying in ${Math.round(wait / 100) / 10} s — lines wait in the files, none are lost`,
            );
            await sleep(wait);
            if (o.signal?.aborted) return summary;
          }
          if (failures > 0) log(`sending to ${o.url} again`);
          failures = 0;
          summary.lines += lines.length;
          summary.batches++;
          o.onSent?.(f.path, lines.length);
        }
        chunk.commit();
        state.save(f.path, f.position as NonNullable<typeof f.position>);
        sent = true;
      }
      if (!sent) {
        if (o.once) break;
        await sleep(o.pollMs ?? 250);
      }
    }
  } finally {
    for (const f of followers) f.close();
    state.close();
  }
  return summary;
}
