import type { Config } from '../config/schema.js';
import { importRees46 } from '../import/rees46-import.js';
import { progressBar } from './progress.js';

export const LOG_FORMATS = ['apache', 'nginx', 'jsonl'] as const;
type LogImportFormat = (typeof LOG_FORMATS)[number];

export async function runImport(
  config: Config,
  file: string,
  o: { format: 'rees46' | LogImportFormat; site: string; progress: boolean; memoryLimit?: string },
): Promise<number> {
  if (o.format !== 'rees46') return runLogImport(config, file, { ...o, format: o.format });
  const bar = o.progress ? progressBar(`importing ${file}`) : null;
  let summary: Awaited<ReturnType<typeof importRees46>>;
  try {
    summary = await importRees46(file, {
      dataDir: config.dataDir,
      siteId: o.site,
      maxFutureMs: config.ingest.maxFutureSeconds * 1000,
      memoryLimit: o.memoryLimit,
      onProgress: (f) => bar?.update(f),
    });
  } catch (err) {
    bar?.done();
    console.error(`storepulse: import failed: ${(err as Error).message}`);
    return 1;
  }
  bar?.done();
  const secs = summary.elapsedMs / 1000;
  const total = summary.loaded + summary.rejected;
  console.log(
    `imported ${summary.loaded.toLocaleString('en-US')} rows from ${summary.file} in ${secs.toFixed(1)} s ` +
      `(${Math.round(total / Math.max(secs, 0.001)).toLocaleString('en-US')} rows/s) into ${summary.filesWritten} Parquet file(s)`,
  );
  if (summary.rejected > 0) {
    console.log(`rejected ${summary.rejected.toLocaleString('en-US')} row(s), kept in bad_records:`);
    for (const r of summary.reasons.slice(0, 5)) console.log(`  ${String(r.count).padStart(8)}  ${r.reason}`);
    for (const e of summary.examples) console.log(`  e.g. line ${e.line}: ${e.raw.slice(0, 120)}`);
    console.log(
      `  see all: storepulse query "select line, reason, raw from bad_records where source = 'import' order by line"`,
    );
  } else {
    console.log('no rows rejected');
  }
  return 0;
}

/** Access or JSON logs into the `logs` lake table and the log search index. */
async function runLogImport(
  config: Config,
  file: string,
  o: { format: LogImportFormat; site: string; progress: boolean },
): Promise<number> {
  const { importLogFile } = await import('../logs/import/log-import.js');
  const bar = o.progress ? progressBar(`importing ${file}`) : null;
  try {
    const s = await importLogFile(file, {
      dataDir: config.dataDir,
      siteId: o.site,
      format: o.format,
      anonymizeIp: config.ingest.anonymizeIp,
      pathPatterns: config.logs.pathPatterns,
      onProgress: (f) => bar?.update(f),
    });
    bar?.done();
    const secs = s.elapsedMs / 1000;
    console.log(
      `imported ${s.lines.toLocaleString('en-US')} log lines from ${s.file} in ${secs.toFixed(1)} s ` +
        `(${Math.round(s.lines / Math.max(secs, 0.001)).toLocaleString('en-US')} lines/s): ` +
        `${s.indexed.toLocaleString('en-US')} newly searchable, ${s.filesWritten} Parquet file(s)`,
    );
    if (s.unparsed > 0) {
      console.log(`${s.unparsed} line(s) kept unparsed (searchable, with parse_error):`);
      for (const r of s.reasons.slice(0, 5)) console.log(`  ${String(r.count).padStart(8)}  ${r.reason}`);
    }
    return 0;
  } catch (err) {
    bar?.done();
    console.error(`storepulse: import failed: ${(err as Error).message}`);
    return 1;
  }
}
