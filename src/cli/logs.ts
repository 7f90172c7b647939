import { join } from 'node:path';
import { runTail } from '../logs/tail/log-tailer.js';

export interface LogsTailCliOptions {
  url: string;
  key?: string;
  format: string;
  source?: string;
  state?: string;
  fromEnd?: boolean;
  batchLines: number;
  once?: boolean;
  quiet?: boolean;
}

/** `storepulse logs tail FILE…`: runs until Ctrl-C (or, with --once, until the files are sent). */
export async function logsTail(dataDir: string, files: string[], o: LogsTailCliOptions): Promise<number> {
  const key = o.key ?? process.env.STOREPULSE_KEY;
  if (!key) {
    console.error(
      "storepulse: logs tail needs the site's write key: pass --key or set STOREPULSE_KEY (see `storepulse sites list`)",
    );
    return 2;
  }
  const statePath = o.state ?? join(dataDir, 'logs-tail', 'state.json');
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let window = 0;
  const progress = setInterval(() => {
    if (window > 0 && !o.quiet) console.log(`sent ${window.toLocaleString('en-US')} lines in the last 10 s`);
    window = 0;
  }, 10_000);
  progress.unref();
  if (!o.quiet)
    console.log(
      `following ${files.length} file(s) → ${new URL('/api/v1/logs/lines', o.url)} (positions in ${statePath})`,
    );
  try {
    const s = await runTail({
      files,
      url: o.url,
      key,
      format: o.format,
      source: o.source,
      statePath,
      fromEnd: o.fromEnd,
      batchLines: o.batchLines,
      once: o.once,
      signal: ac.signal,
      log: (m) => console.error(`storepulse: ${m}`),
      onSent: (_file, n) => {
        window += n;
      },
    });
    if (!o.quiet) console.log(`sent ${s.lines.toLocaleString('en-US')} lines in ${s.batches} batch(es)`);
    return 0;
  } catch (err) {
    console.error(`storepulse: logs tail stopped: ${(err as Error).message}`);
    return 1;
  } finally {
    clearInterval(progress);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
